"""What the benchmarks share: a free port, and a throw-away migrated database."""

from __future__ import annotations

import argparse
import contextlib
import socket
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from tautan.db import upgrade


class Discard:
    """The baseline SMTP handler: accepts every message and keeps nothing."""

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def database(server_url: str | None) -> Iterator[str]:
    """A migrated database for one run: a new database on the PostgreSQL server at
    ``server_url``, dropped afterwards, or (without one) a SQLite file in a temporary folder."""
    if not server_url:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            upgrade(url)
            yield url
        return
    name = f"tautan_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(doc: str, run: Callable[[str, int, int], None], argv: list[str] | None = None, *,
         default_count: int = 500) -> None:
    """The command line the mail benchmarks share: how many messages, rounds, and which database."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--messages", type=int, default=default_count)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--url", help="a PostgreSQL server URL to bench on (a throw-away database is made)")
    args = parser.parse_args(argv)
    with database(args.url) as url:
        run(url, args.messages, args.rounds)


def analyze(engine: Engine) -> None:
    """Fresh planner statistics after seeding (and, on PostgreSQL, the companies' id sequence moved
    past the ids the seed wrote itself), so the timed queries use the plans a live database would."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.exec_driver_sql("SELECT setval(pg_get_serial_sequence('companies', 'id'), "
                                       "(SELECT max(id) FROM companies))")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
