"""The customer listing ``core.services.search`` runs is served by an index on connections, not by a
sequential scan, once there are enough rows for the planner to care (PostgreSQL only).

The rows are seeded with ``generate_series`` in the session's migrated database and removed at the
end, so the other tests see the empty tables they expect.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from tautan.core import services
from tautan.core.uow import UnitOfWork
from tautan.db import make_engine, make_session_factory

pytestmark = pytest.mark.postgres_only

CUSTOMERS = 100                  # customer ids 1..CUSTOMERS; customer 1 has two units
UNITS = (CUSTOMERS + 1, CUSTOMERS + 2)
FIRST_SUPPLIER = CUSTOMERS + len(UNITS) + 1
ROWS = 50_000
SUPPLIERS = -(-ROWS // 3)        # row i: supplier i % SUPPLIERS, type i // SUPPLIERS + 1 -> unique
TABLES = "connections, invitations, events, memberships, people, companies"


def _seed(engine: Engine) -> None:
    with engine.begin() as db:
        db.execute(text("""
            INSERT INTO companies (id, name, parent_key, name_key, search_name, role, parent_id, locale, created_at, slug)
            SELECT g, 'PT Pelanggan ' || g, 0, 'pt pelanggan ' || g, 'pt pelanggan ' || g, 'customer', NULL,
                   'id', TIMESTAMPTZ '2026-01-01 00:00+00', 'c-' || g
            FROM generate_series(1, CAST(:customers AS int)) g
        """), {"customers": CUSTOMERS})
        db.execute(text("""
            INSERT INTO companies (id, name, parent_key, name_key, search_name, role, parent_id, locale, created_at, slug)
            SELECT u, 'Cabang ' || u, 1, 'cabang ' || u, 'cabang ' || u, 'customer', 1, 'id',
                   TIMESTAMPTZ '2026-01-01 00:00+00', 'c-' || u
            FROM unnest(CAST(:units AS int[])) u
        """), {"units": list(UNITS)})
        db.execute(text("""
            INSERT INTO companies (id, name, parent_key, name_key, search_name, role, parent_id, locale, created_at, slug)
            SELECT g, 'CV Maju Jaya ' || g, 0, 'cv maju jaya ' || g, 'cv maju jaya ' || g, 'supplier', NULL,
                   'id', TIMESTAMPTZ '2026-01-01 00:00+00', 'c-' || g
            FROM generate_series(CAST(:first AS int), CAST(:first AS int) + CAST(:suppliers AS int) - 1) g
        """), {"first": FIRST_SUPPLIER, "suppliers": SUPPLIERS})
        # Customers (and the two units) spread evenly, statuses cycling, updated_at over ~3 months.
        db.execute(text("""
            INSERT INTO connections (customer_id, supplier_id, type_id, status, invitation_id,
                                     created_at, updated_at, version)
            SELECT 1 + (i * 7919) % CAST(:slots AS int), CAST(:first AS int) + i % CAST(:suppliers AS int),
                   i / CAST(:suppliers AS int) + 1,
                   (ARRAY['invited', 'requested', 'connected', 'rejected', 'cancelled', 'expired',
                          'disconnected'])[1 + i % 7],
                   NULL, stamp - interval '10 days', stamp, 1
            FROM generate_series(0, CAST(:rows AS int) - 1) i,
                 LATERAL (SELECT TIMESTAMPTZ '2026-03-01 00:00+00'
                                 - ((i::bigint * 104729) % 8000000) * interval '1 second' AS stamp) s
        """), {"slots": CUSTOMERS + len(UNITS), "first": FIRST_SUPPLIER, "suppliers": SUPPLIERS,
               "rows": ROWS})
        for table in ("companies", "connections"):
            db.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        db.execute(text("ANALYZE companies, connections"))


@pytest.fixture(scope="module")
def seeded(migrated_postgres: str) -> Iterator[Engine]:
    engine = make_engine(migrated_postgres)
    try:
        _seed(engine)
        yield engine
    finally:
        with engine.begin() as db:
            db.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
        engine.dispose()


def _listing_statement(engine: Engine, **search: Any) -> tuple[str, Any]:
    """Run ``services.search`` and return the page query it sent (the SELECT with a LIMIT)."""
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        page = services.search(UnitOfWork(make_session_factory(engine)), **search)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert page.items, "the seeded customer should have connections"
    listings = [(s, p) for s, p in seen
                if " LIMIT " in " ".join(s.split()).upper() and "connections" in s
                and not s.lstrip().upper().startswith("SELECT COUNT")]
    assert len(listings) == 1, [s for s, _ in seen]
    return listings[0]


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def _plan(engine: Engine, statement: str, parameters: Any) -> dict[str, Any]:
    with engine.connect() as db:
        (plan,) = db.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).one()
    return plan[0]["Plan"]


@pytest.mark.parametrize("search", [
    pytest.param({"company": 7}, id="customer"),
    pytest.param({"company": 7, "statuses": ["connected"]}, id="customer+status"),
    pytest.param({"company": 1, "unit": "Cabang 101"}, id="unit"),
    pytest.param({"company": 7, "page": 3}, id="customer-page-3"),
])
def test_customer_listing_uses_a_connections_index(seeded: Engine, search: dict[str, Any]) -> None:
    statement, parameters = _listing_statement(seeded, **search)
    nodes = list(_nodes(_plan(seeded, statement, parameters)))
    plan = [(n["Node Type"], n.get("Index Name") or n.get("Relation Name")) for n in nodes]

    assert not [n for n in nodes if n["Node Type"] == "Seq Scan"
                and n.get("Relation Name") == "connections"], plan
    assert [n for n in nodes if n["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Index Scan")
            and n.get("Index Name", "").startswith("ix_connections_")], plan
