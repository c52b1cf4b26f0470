"""Fixtures: a real database (SQLite and PostgreSQL), migrated once per run, emptied between
tests; an injected clock; the composition root on the test database; a real SMTP sink; Slack's
Web API faked on a local port, with one factory that builds the web app with Slack configured.

What these fixtures are made of lives in ``tests.support``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from tautan.core.uow import UnitOfWork
from tautan.db import make_engine, make_session_factory, upgrade
from tests.support import IN_CI, MAIL_KEYS, POSTGRES_URL, SLACK_SECRET, FakeClock, FakeSlack, SlackClient
from tests.support.db import empty, postgres_available
from tests.support.smtp import SinkHandler, running_sink


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of the PostgreSQL server; skipped locally without one, a failure under CI."""
    if not postgres_available():
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable at {make_url(POSTGRES_URL).render_as_string()}")
        pytest.skip("PostgreSQL is not reachable")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def fresh_postgres_database(postgres_server: str) -> Iterator[str]:
    """A throw-away database on the server, dropped at the end of the run."""
    name = f"tautan_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'tautan.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def migrated_postgres(fresh_postgres_database: str) -> str:
    upgrade(fresh_postgres_database)
    return fresh_postgres_database


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"migrated_{'postgres' if request.param == 'postgresql' else 'sqlite'}"))


@pytest.fixture(scope="session")
def _engines() -> Iterator[dict[str, Engine]]:
    engines: dict[str, Engine] = {}
    yield engines
    for engine in engines.values():
        engine.dispose()


@pytest.fixture
def engine(database_url: str, _engines: dict[str, Engine]) -> Iterator[Engine]:
    if database_url not in _engines:
        _engines[database_url] = make_engine(database_url)
    engine = _engines[database_url]
    yield engine
    empty(engine)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def uow(engine: Engine, clock: FakeClock) -> UnitOfWork:
    return UnitOfWork(make_session_factory(engine), clock=clock)


# --- the application's container, for the mail tests ------------------------------------------

@pytest.fixture
def container(engine: Engine, database_url: str, clock: FakeClock) -> Iterator[Any]:
    """The composition root on the test database, with mail settings of a real deployment."""
    from tautan.settings import Settings
    from tautan.wiring import Container

    settings = Settings(database_url=database_url, secret_keys=MAIL_KEYS, mail_domain="connect.example.id",
                        mail_from="undangan@connect.example.id", public_base_url="https://tautan.example.id")
    built = Container(settings, clock=clock)
    yield built
    built.close()


# --- a real SMTP relay to send to ------------------------------------------------------------

@pytest.fixture
def smtp_sink() -> Iterator[tuple[SinkHandler, int]]:
    """An aiosmtpd relay on a free port that keeps every message."""
    with running_sink() as sink:
        yield sink


# --- Slack: a fake Web API and signed requests to the running web app ------------------------

@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


SlackFactory = Callable[..., SlackClient]


@pytest.fixture
def make_slack(engine: Engine, database_url: str, fake_slack: FakeSlack) -> Iterator[SlackFactory]:
    """Builds the web app with Slack configured, its Web API pointed at the fake, and returns a
    ``SlackClient`` that sends signed requests to it. Settings given override the defaults of one
    workspace with a bot token (pass ``slack_bot_token=None`` and an OAuth client for many). The
    clock is the real one: Slack signatures carry real time."""
    from starlette.testclient import TestClient

    from tautan.settings import Settings
    from tautan.web import create_app
    from tautan.wiring import Container

    opened: list[tuple[Any, Any]] = []

    def build(**overrides: Any) -> SlackClient:
        values: dict[str, Any] = {
            "database_url": database_url, "secret_keys": ("k1",), "mail_domain": "connect.example.id",
            "public_base_url": "https://tautan.example.id", "slack_bot_token": "xoxb-test",
            "slack_signing_secret": SLACK_SECRET, "slack_api_url": fake_slack.url, **overrides}
        container = Container(Settings(**values), clock=lambda: dt.datetime.now(dt.timezone.utc))
        client = TestClient(create_app(container), base_url="https://tautan.example.id")
        client.__enter__()
        opened.append((client, container))
        slack_client = SlackClient(client, fake_slack)
        slack_client.container = container
        return slack_client

    yield build
    for client, container in reversed(opened):
        client.__exit__(None, None, None)
        container.close()


@pytest.fixture
def slack(make_slack: SlackFactory) -> SlackClient:
    """The web app with Slack configured for one workspace (bot token)."""
    return make_slack()
