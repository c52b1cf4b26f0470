"""The test databases: SQLite files and throw-away PostgreSQL databases on the local server."""

from __future__ import annotations

import os

from sqlalchemy import Engine, create_engine, text

from tautan.db import schema

POSTGRES_URL = os.environ.get("TAUTAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# Tables the migrations fill and the tests never empty.
KEEP = ("document_types",)


def postgres_available(url: str = POSTGRES_URL) -> bool:
    try:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure to connect means: no server for the PostgreSQL half
        return False


def empty(engine: Engine) -> None:
    """Delete every row the tests wrote, keeping the schema (and the seeded document types)."""
    tables = [t for t in reversed(schema().sorted_tables) if t.name not in KEEP]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                if "parent_id" in table.c:  # units before the companies they belong to
                    connection.execute(table.delete().where(table.c.parent_id.is_not(None)))
                connection.execute(table.delete())
