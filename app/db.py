"""Engines, sessions and migrations for the configured database."""

from __future__ import annotations

import time
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, MetaData, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tautan.core.uow import READ_ONLY, REDOABLE


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys on, WAL with full sync and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 15)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; take the lock at BEGIN instead so
        # two writers serialize instead of failing on upgrade (SQLAlchemy's documented recipe).
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # No ping before every checkout (a round trip per unit of work): a connection is pinged only
    # when it sat idle long enough for a server or a firewall to have dropped it, and recycled
    # after a while in any case. A ping that fails makes the pool open a fresh connection.
    kwargs.setdefault("pool_recycle", 1800)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "checkin", _note_idle)
    event.listen(engine, "checkout", _ping_if_idle)
    if parsed.get_backend_name() == "postgresql":
        event.listen(engine, "begin", _postgresql_begin)
    return engine


def _postgresql_begin(connection: Connection) -> None:
    # A unit of work that is done again if its commit is lost (processing stored messages) does
    # not wait for the log to reach the disk; the next commit that waits (any other) flushes the
    # log up to itself, this one's commit included. For this transaction only.
    if connection.get_execution_options().get(REDOABLE, False):
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


IDLE_BEFORE_PING = 10.0  # seconds


def _note_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING:
        return  # just opened, or in steady use
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
    except Exception as error:  # any failure of the ping means this connection is gone
        raise exc.DisconnectionError() from error


def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: every commit is on disk when it returns (the WAL is synced at each commit). NORMAL
    # syncs only at checkpoints, so a power cut could lose the last commits, among them a message
    # the SMTP server already answered 250 for; about 0.2 ms a commit is the price.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()
    record.info[_SYNCHRONOUS] = "FULL"


_SYNCHRONOUS = "tautan_synchronous"


def _sqlite_begin(connection: Connection) -> None:
    options = connection.get_execution_options()
    # A unit of work that is done again if its commit is lost (processing a stored message) does
    # not wait for the disk; every other commit does, and its sync covers the earlier ones too.
    # The level can only change between transactions, so here, before BEGIN.
    level = "NORMAL" if options.get(REDOABLE, False) else "FULL"
    info = connection.connection.info
    if info.get(_SYNCHRONOUS) != level:
        connection.exec_driver_sql(f"PRAGMA synchronous={level}")
        info[_SYNCHRONOUS] = level
    # A read-only unit of work begins deferred: it takes no lock, so it never waits for a writer.
    connection.exec_driver_sql("BEGIN" if options.get(READ_ONLY, False) else "BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def schema() -> MetaData:
    """Every table the migrations manage: the engine's and the Slack adapter's, in one metadata."""
    from tautan.core.model import Base
    from tautan.slack_store import metadata as slack_metadata

    merged = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in [*Base.metadata.tables.values(), *slack_metadata.tables.values()]:
        table.to_metadata(merged)
    return merged


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("tautan.migrations")))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply the migrations up to ``revision``."""
    command.upgrade(alembic_config(url), revision)
