"""The engine without a ping per checkout: a connection the server dropped while it sat idle is
noticed at the next checkout, and replaced, so the unit of work after an outage just works."""

from __future__ import annotations

from sqlalchemy import text

from tautan import db
from tautan.db import make_engine


def test_a_dropped_idle_connection_is_replaced(migrated_postgres, monkeypatch) -> None:  # noqa: ANN001
    engine = make_engine(migrated_postgres, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            first = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        # the server (or a firewall) drops the pooled connection while it is idle
        admin = make_engine(migrated_postgres)
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        admin.dispose()
        monkeypatch.setattr(db, "IDLE_BEFORE_PING", 0.0)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != first
    finally:
        engine.dispose()
