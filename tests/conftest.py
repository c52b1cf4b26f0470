"""Shared fixtures: a real database (SQLite and PostgreSQL), migrated once per run, emptied
between tests; an injected clock."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from tautan.db import make_engine, make_session_factory, schema, upgrade
from tautan.core.uow import UnitOfWork

POSTGRES_URL = os.environ.get("TAUTAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
KEEP = ("document_types",)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def _postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of the PostgreSQL server; skipped locally without one, a failure under CI."""
    if not _postgres_available():
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
    return request.getfixturevalue(f"migrated_{'postgres' if request.param == 'postgresql' else 'sqlite'}")


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
    _empty(engine)


def _empty(engine: Engine) -> None:
    tables = [t for t in reversed(schema().sorted_tables) if t.name not in KEEP]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                if "parent_id" in table.c:  # units before the companies they belong to
                    connection.execute(table.delete().where(table.c.parent_id.is_not(None)))
                connection.execute(table.delete())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def uow(engine: Engine, clock: FakeClock) -> UnitOfWork:
    return UnitOfWork(make_session_factory(engine), clock=clock)


# --- the application's container, for the mail tests ------------------------------------------

MAIL_KEYS = ("new-key", "old-key")


@pytest.fixture
def container(engine, database_url, clock):  # noqa: ANN001, ANN201
    """The composition root on the test database, with mail settings of a real deployment."""
    from tautan.settings import Settings
    from tautan.wiring import Container

    settings = Settings(database_url=database_url, secret_keys=MAIL_KEYS, mail_domain="connect.example.id",
                        mail_from="undangan@connect.example.id", public_base_url="https://tautan.example.id")
    built = Container(settings, clock=clock)
    yield built
    built.close()


# --- a real SMTP relay to send to ------------------------------------------------------------

def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SinkHandler:
    """An aiosmtpd handler that keeps what it receives; some recipients can be refused with a
    given reply (``refuse[address] = "550 5.1.1 no such user"``)."""

    def __init__(self) -> None:
        import threading

        self.received: list[tuple[str, list[str], bytes]] = []
        self.refuse: dict[str, str] = {}
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content
                                                                                       or envelope.content)))
        return "250 Message accepted"

    def messages(self):  # noqa: ANN201
        import email
        from email import policy

        return [email.message_from_bytes(data, policy=policy.default) for _, _, data in self.received]


@pytest.fixture
def smtp_sink() -> Iterator[tuple[SinkHandler, int]]:
    """An aiosmtpd relay on a free port that keeps every message."""
    from aiosmtpd.controller import Controller

    handler = SinkHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


# --- Slack: a fake Web API and signed requests to the running web app ------------------------

SLACK_SECRET = "test-signing-secret"


@pytest.fixture
def fake_slack() -> Iterator[object]:
    from tests.slack_fake import FakeSlack

    fake = FakeSlack()
    yield fake
    fake.close()


class SlackClient:
    """Sends signed requests to /slack/events of the app under test, as Slack would."""

    def __init__(self, client: object, fake: object, secret: str = SLACK_SECRET) -> None:
        self.client, self.fake, self.secret = client, fake, secret

    def post(self, body: str, *, content_type: str = "application/x-www-form-urlencoded",
             timestamp: int | None = None, secret: str | None = None, headers: dict[str, str] | None = None):  # noqa: ANN201
        from tests.slack_fake import sign

        signed = sign(secret or self.secret, body, timestamp)
        return self.client.post("/slack/events", content=body.encode(),  # type: ignore[attr-defined]
                                headers={"Content-Type": content_type, **signed, **(headers or {})})

    def command(self, text: str, *, user: str = "U1", team: str = "T1", channel: str = "C1", **kwargs: object):  # noqa: ANN201
        from tests.slack_fake import command_body

        response_url = f"{self.fake.url}/webhook/{team}/{user}"  # type: ignore[attr-defined]
        return self.post(command_body(text, team=team, user=user, channel=channel, response_url=response_url),
                         **kwargs)

    def interact(self, payload: dict, **kwargs: object):  # noqa: ANN201, type-arg
        from tests.slack_fake import payload_body

        return self.post(payload_body(payload), **kwargs)

    def event(self, event: dict, *, team: str = "T1", **kwargs: object):  # noqa: ANN201, type-arg
        import json
        import uuid

        body = json.dumps({"token": "legacy", "team_id": team, "api_app_id": "A1", "type": "event_callback",
                           "event_id": f"Ev{uuid.uuid4().hex[:10]}", "event_time": 1700000000,
                           "authorizations": [{"team_id": team, "user_id": "UBOT", "is_bot": True}],
                           "event": event})
        return self.post(body, content_type="application/json", **kwargs)


@pytest.fixture
def slack(engine, database_url, clock, fake_slack):  # noqa: ANN001, ANN201
    """The web app with Slack configured for one workspace (bot token), its Web API pointed at the
    fake; returns a SlackClient. The clock is the real one: Slack signatures carry real time."""
    import datetime as dt

    from starlette.testclient import TestClient

    from tautan.settings import Settings
    from tautan.web import create_app
    from tautan.wiring import Container

    settings = Settings(database_url=database_url, secret_keys=("k1",), mail_domain="connect.example.id",
                        public_base_url="https://tautan.example.id", slack_bot_token="xoxb-test",
                        slack_signing_secret=SLACK_SECRET, slack_api_url=fake_slack.url)
    container = Container(settings, clock=lambda: dt.datetime.now(dt.timezone.utc))
    with TestClient(create_app(container), base_url="https://tautan.example.id") as client:
        slack_client = SlackClient(client, fake_slack)
        slack_client.container = container  # type: ignore[attr-defined]
        yield slack_client
    container.close()
