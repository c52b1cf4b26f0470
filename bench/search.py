"""Benchmark ``core.services.search`` on PostgreSQL with a realistic amount of data.

    python -m bench.search [--url URL] [--rows N] [--runs N] [--keep]

It creates a throw-away database on the server (``tautan_bench_<random>``), migrates it with
Alembic, seeds companies and ``--rows`` connections with server-side SQL (``generate_series``),
then times the real ``search()`` calls through a ``UnitOfWork``, twice: once normally and once
on a second engine whose sessions forbid index scans (the in-run baseline). For each query it
prints the median times (and the 95th percentile of the indexed ones), their ratio, and the plan
PostgreSQL picks for the listing query. Queries slower than 50 ms get an ``EXPLAIN (ANALYZE,
BUFFERS)`` of their statements. The database is dropped at the end unless ``--keep`` is given.

The URL defaults to ``$TAUTAN_BENCH_POSTGRES_URL`` or the local test server; only loopback hosts
are accepted unless ``--allow-remote`` is given, since the script creates and drops databases.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection as DBConnection
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from tautan.core import services
from tautan.core.model import Status, search_key
from tautan.core.transitions import Side
from tautan.core.uow import UnitOfWork
from tautan.db import make_engine, make_session_factory, upgrade

DEFAULT_URL = os.environ.get("TAUTAN_BENCH_POSTGRES_URL",
                             "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LOOPBACK = {"127.0.0.1", "localhost", "::1", None, ""}

CUSTOMERS = 200            # top-level customer companies, ids 1..CUSTOMERS
UNIT_EVERY = 10            # customers 1, 11, 21, ... have units
UNITS_PER_CUSTOMER = 3
UNIT_SHARE = 0.4           # share of such a customer's connections held by its units
BIG_SUPPLIERS = 10         # suppliers connected to every top-level customer for every type
SLOW_MS = 50.0
NOW = "2026-03-01 00:00:00+00"
SEED = 0.4242

NO_INDEX_SETTINGS = ("SET enable_indexscan = off", "SET enable_bitmapscan = off",
                     "SET enable_indexonlyscan = off")

# Display form and search form (NFKC + casefold, as core.model.search_key) of the name parts;
# every part's casefold is character-wise, so the search form of a joined name is the join of
# the parts' search forms (checked on a sample after seeding).
PREFIXES = ("PT", "PT", "PT", "CV", "CV", "UD", "Toko", "Koperasi")
WORDS = ("Maju", "Jaya", "Sinar", "Ümit", "Sejahtera", "Abadi", "Makmur", "Sentosa", "Mandiri",
         "Bersama", "Karya", "Utama", "Cahaya", "Berkah", "Nusantara", "Indah", "Gemilang",
         "Çelik", "Özlem", "Sumber", "Rezeki", "Lestari", "Perkasa", "Añejo", "Élan", "Bintang")
UNIT_NAMES = ("Gudang Jakarta", "Cabang Surabaya", "Kantor Medan")


# --- the database --------------------------------------------------------------------------

@contextmanager
def throwaway_database(admin_url: str, keep: bool) -> Iterator[str]:
    name = f"tautan_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    print(f"database {name} created", flush=True)
    try:
        yield url
    finally:
        if keep:
            print(f"database {name} kept (--keep)")
        else:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            print(f"database {name} dropped")
        admin.dispose()


@dataclass(frozen=True)
class Layout:
    """Where the seeded rows are, so the queries can name real companies."""

    rows: int
    units: dict[int, list[int]]          # customer id -> unit ids
    first_supplier: int
    big_suppliers: int
    main_suppliers: int                  # suppliers after the big ones
    big_rows: int

    @property
    def suppliers(self) -> int:
        return self.big_suppliers + self.main_suppliers

    @property
    def last_company(self) -> int:
        return self.first_supplier + self.suppliers - 1


def plan_layout(rows: int) -> Layout:
    units: dict[int, list[int]] = {}
    next_id = CUSTOMERS + 1
    for customer in range(1, CUSTOMERS + 1, UNIT_EVERY):
        units[customer] = list(range(next_id, next_id + UNITS_PER_CUSTOMER))
        next_id += UNITS_PER_CUSTOMER
    big = BIG_SUPPLIERS if rows >= 10 * BIG_SUPPLIERS * CUSTOMERS * 3 else 0
    big_rows = big * CUSTOMERS * 3
    main_rows = rows - big_rows
    # Main-phase row i gets supplier i % S and type i // S + 1: (supplier, type) is unique per row,
    # so (customer, supplier, type) is too, whatever customer the row draws.
    main_suppliers = max(1, -(-main_rows // 3))
    return Layout(rows=rows, units=units, first_supplier=next_id, big_suppliers=big,
                  main_suppliers=main_suppliers, big_rows=big_rows)


def _status_case(r: str) -> str:
    weights = ((Status.CONNECTED, 0.50), (Status.INVITED, 0.12), (Status.REQUESTED, 0.08),
               (Status.REJECTED, 0.08), (Status.CANCELLED, 0.07), (Status.EXPIRED, 0.10))
    parts, edge = [], 0.0
    for status, weight in weights:
        edge += weight
        parts.append(f"WHEN {r} < {edge:.2f} THEN '{status.value}'")
    return f"CASE {' '.join(parts)} ELSE '{Status.DISCONNECTED.value}' END"


def seed(engine: Engine, layout: Layout) -> None:
    unit_parent = {u: c for c, us in layout.units.items() for u in us}
    with engine.begin() as db:
        db.execute(text("SET LOCAL synchronous_commit = off"))
        db.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        try:
            # The rows are consistent by construction; skipping the foreign-key triggers makes the
            # load faster. Needs superuser, so it is only an optimization.
            with db.begin_nested():
                db.execute(text("SET LOCAL session_replication_role = replica"))
        except Exception:  # noqa: BLE001 - any refusal means: load with the checks on
            print("  (not superuser: loading with foreign-key checks)")
        db.execute(text("SELECT setseed(:seed)"), {"seed": SEED})

        step = _stepper()
        db.execute(text("""
            INSERT INTO companies (id, name, parent_key, name_key, search_name, role, parent_id, locale, created_at, slug)
            SELECT g, n, 0, lower(n), lower(n),
                   CASE WHEN g % 25 = 0 THEN 'both' ELSE 'customer' END, NULL,
                   CASE WHEN g % 3 = 0 THEN 'en' ELSE 'id' END,
                   CAST(:now AS timestamptz) - g * interval '3 days', 'c-' || g
            FROM generate_series(1, CAST(:customers AS int)) g,
                 LATERAL (SELECT format('PT Pelanggan %s Tbk', lpad(g::text, 3, '0')) AS n) names
        """), {"customers": CUSTOMERS, "now": NOW})
        db.execute(text("""
            INSERT INTO companies (id, name, parent_key, name_key, search_name, role, parent_id, locale, created_at, slug)
            SELECT u.id, u.name, p.id, lower(u.name), lower(u.name), p.role, p.id, p.locale, p.created_at,
                   'c-' || u.id
            FROM unnest(CAST(:ids AS int[]), CAST(:parents AS int[]), CAST(:names AS text[])) AS u(id, parent, name)
            JOIN companies p ON p.id = u.parent
        """), {"ids": list(unit_parent), "parents": list(unit_parent.values()),
               "names": [UNIT_NAMES[i % UNITS_PER_CUSTOMER] for i in range(len(unit_parent))]})
        db.execute(text("""
            INSERT INTO companies (id, name, parent_key, name_key, search_name, role, parent_id, locale, created_at, slug)
            SELECT g, concat_ws(' ', pd[p], wd[a], wd[b], g), 0,
                   concat_ws(' ', pk[p], wk[a], wk[b], g), concat_ws(' ', pk[p], wk[a], wk[b], g),
                   CASE WHEN g % 50 = 0 THEN 'both' ELSE 'supplier' END, NULL,
                   CASE WHEN p % 4 = 0 THEN 'en' ELSE 'id' END,
                   CAST(:now AS timestamptz) - (g % 1000) * interval '1 day', 'c-' || g
            FROM (SELECT g, 1 + floor(random() * :np)::int AS p, 1 + floor(random() * :nw)::int AS a,
                         floor(random() * (:nw - 1))::int AS b_offset
                  FROM generate_series(CAST(:first AS int), CAST(:last AS int)) g OFFSET 0) r,
                 LATERAL (SELECT 1 + (a + b_offset) % :nw AS b) second_word,
                 (SELECT CAST(:pd AS text[]) pd, CAST(:pk AS text[]) pk,
                         CAST(:wd AS text[]) wd, CAST(:wk AS text[]) wk) arrays
        """), {"first": layout.first_supplier, "last": layout.last_company, "now": NOW,
               "np": len(PREFIXES), "nw": len(WORDS),
               "pd": list(PREFIXES), "pk": [search_key(p) for p in PREFIXES],
               "wd": list(WORDS), "wk": [search_key(w) for w in WORDS]})
        step(f"companies: {CUSTOMERS} customers, {len(unit_parent)} units, {layout.suppliers} suppliers")

        columns = "customer_id, supplier_id, type_id, status, invitation_id, created_at, updated_at, version"
        times = ("CAST(:now AS timestamptz) - r_t * interval '730 days' - r_c * interval '120 days', "
                 "CAST(:now AS timestamptz) - r_t * interval '730 days', 1")
        if layout.big_rows:
            db.execute(text(f"""
                INSERT INTO connections ({columns})
                SELECT c, s, t, {_status_case('r_s')}, NULL, {times}
                FROM (SELECT c, s, t, random() r_s, random() r_t, random() r_c
                      FROM generate_series(CAST(:first AS int), CAST(:first AS int) + CAST(:big AS int) - 1) s,
                           generate_series(1, CAST(:customers AS int)) c, generate_series(1, 3) t OFFSET 0) r
            """), {"first": layout.first_supplier, "big": layout.big_suppliers,
                   "customers": CUSTOMERS, "now": NOW})
        # Customers are skewed (customer 1 holds ~7 %, customer 200 ~0.25 %); customers with units
        # hand UNIT_SHARE of their rows to them. Updated_at is spread over two years.
        unit_base = CUSTOMERS + 1
        db.execute(text(f"""
            INSERT INTO connections ({columns})
            SELECT CASE WHEN (top - 1) % :every = 0 AND r_u < :share
                        THEN :unit_base + ((top - 1) / :every) * :per + floor(r_u / :share * :per)::int
                        ELSE top END,
                   :first + :big + i % :nsup, i / :nsup + 1, {_status_case('r_s')}, NULL, {times}
            FROM (SELECT i, 1 + floor(:customers * r_top * r_top)::int AS top, r_u, r_s, r_t, r_c
                  FROM (SELECT i, random() r_top, random() r_u, random() r_s, random() r_t, random() r_c
                        FROM generate_series(0, CAST(:main_rows AS int) - 1) i OFFSET 0) x OFFSET 0) r
        """), {"every": UNIT_EVERY, "share": UNIT_SHARE, "unit_base": unit_base,
               "per": UNITS_PER_CUSTOMER, "first": layout.first_supplier, "big": layout.big_suppliers,
               "nsup": layout.main_suppliers, "customers": CUSTOMERS, "now": NOW,
               "main_rows": layout.rows - layout.big_rows})
        for table in ("companies", "connections"):
            db.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"))
        step(f"connections: {layout.rows:,}")

    _check_search_names(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        # VACUUM as well as ANALYZE: the visibility map is what autovacuum would have set on a live
        # table, and index-only scans (the count query) depend on it.
        db.execute(text("VACUUM (ANALYZE) companies, connections, document_types"))
    step("vacuum analyze")


def _check_search_names(engine: Engine) -> None:
    with engine.connect() as db:
        sample = db.execute(text("SELECT name, name_key, search_name FROM companies "
                                 "WHERE id % 997 = 1 OR id <= :n"), {"n": CUSTOMERS + 20}).all()
    wrong = [name for name, key, search in sample if not search_key(name) == key == search]
    if wrong:
        raise SystemExit(f"seeded search names disagree with core.model.search_key: {wrong[:3]}")


def _stepper() -> Callable[[str], None]:
    start = time.perf_counter()

    def step(what: str) -> None:
        print(f"  {what} ({time.perf_counter() - start:.1f} s)", flush=True)
    return step


# --- measuring -------------------------------------------------------------------------------

@dataclass
class Recorder:
    """Statements run on an engine while ``active``, with their parameters and durations."""

    active: bool = False
    statements: list[tuple[str, Any, float]] = field(default_factory=list)

    def attach(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: DBConnection, cursor: Any, statement: str, parameters: Any,
                context: Any, executemany: bool) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: DBConnection, cursor: Any, statement: str, parameters: Any,
               context: Any, executemany: bool) -> None:
        if self.active:
            elapsed = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
            self.statements.append((statement, parameters, elapsed * 1000))

    @contextmanager
    def recording(self) -> Iterator[list[tuple[str, Any, float]]]:
        self.statements = []
        self.active = True
        try:
            yield self.statements
        finally:
            self.active = False


def is_listing(statement: str) -> bool:
    """The page query: a SELECT over connections with a LIMIT (the count and the loaders have none)."""
    flat = " ".join(statement.split()).lower()
    return flat.startswith("select ") and " limit " in flat and "connections" in flat and not is_count(flat)


def is_count(statement: str) -> bool:
    head = " ".join(statement.split()).lower()
    return head.startswith("select count(*)")


def forbid_indexes(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for setting in NO_INDEX_SETTINGS:
        cursor.execute(setting)
    cursor.close()
    dbapi_connection.commit()


def median_ms(call: Callable[[], Any], runs: int) -> tuple[float, Any]:
    median, _p95, result = timed_ms(call, runs)
    return median, result


def timed_ms(call: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    """(median, 95th percentile, last result) of ``runs`` timed calls, after a warm-up call."""
    result = call()                      # warm-up: caches, connection, statement compilation
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - start) * 1000)
    p95 = statistics.quantiles(samples, n=20, method="inclusive")[-1] if len(samples) > 1 else samples[0]
    return statistics.median(samples), p95, result


def explain(engine: Engine, statement: str, parameters: Any, *, analyze: bool = False) -> Any:
    options = "ANALYZE, BUFFERS, FORMAT TEXT" if analyze else "FORMAT JSON"
    with engine.connect() as db:
        rows = db.exec_driver_sql(f"EXPLAIN ({options}) {statement}", parameters).all()
    if analyze:
        return "\n".join(r[0] for r in rows)
    plan = rows[0][0]
    return json.loads(plan) if isinstance(plan, str) else plan


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from walk(child)


def plan_summary(plan: Any) -> str:
    root = plan[0]["Plan"]
    scans = []
    for node in walk(root):
        kind = node["Node Type"]
        if kind == "Index Scan" and node.get("Scan Direction") == "Backward":
            kind = "Index Scan Backward"
        if "Index Name" in node:
            scans.append(f"{kind} {node['Index Name']}")
        elif "Scan" in kind and "Relation Name" in node:
            scans.append(f"{kind} on {node['Relation Name']}")
    top = " > ".join(n["Node Type"] for n in _spine(root))
    unique = list(dict.fromkeys(scans))
    return f"{top}  [{'; '.join(unique)}]"


def _spine(root: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The top of the plan down to the first node that is not a single-child wrapper."""
    node = root
    for _ in range(4):
        yield node
        children = node.get("Plans", ())
        if len(children) != 1:
            return
        node = children[0]


@dataclass(frozen=True)
class Query:
    label: str
    kwargs: dict[str, Any]


def queries(layout: Layout, engine: Engine) -> list[Query]:
    with engine.connect() as db:
        by_size = db.execute(text(
            "SELECT customer_id FROM connections WHERE customer_id <= :n "
            "GROUP BY customer_id ORDER BY count(*) DESC"), {"n": CUSTOMERS}).scalars().all()
    with_units = next(c for c in by_size if c in layout.units)
    plain = next(c for c in by_size if c not in layout.units)
    supplier = layout.first_supplier          # a big supplier when the layout has them
    unit = UNIT_NAMES[0]
    return [
        Query(f"customer {with_units} (+{len(layout.units[with_units])} units), page 1",
              {"company": with_units}),
        Query(f"customer {plain} (no units), page 1", {"company": plain}),
        Query(f"customer {with_units} unit '{unit}', page 1", {"company": with_units, "unit": unit}),
        Query(f"customer {with_units} + status=requested",
              {"company": with_units, "statuses": ["requested"]}),
        Query(f"customer {plain} + status=requested", {"company": plain, "statuses": ["requested"]}),
        Query(f"customer {plain} + type=invoice + status=connected",
              {"company": plain, "types": ["invoice"], "statuses": ["connected"]}),
        Query(f"customer {plain} + partner 'maju'", {"company": plain, "partner": "maju"}),
        Query(f"customer {with_units} + partner 'maju'", {"company": with_units, "partner": "maju"}),
        Query(f"supplier {supplier} (supplier side), page 1",
              {"company": supplier, "side": Side.SUPPLIER}),
        Query(f"customer {plain}, page 50", {"company": plain, "page": 50}),
        Query(f"customer {with_units} (+units), page 50", {"company": with_units, "page": 50}),
    ]


@dataclass
class Result:
    query: Query
    indexed_ms: float
    indexed_p95_ms: float
    baseline_ms: float
    total: int
    plan: str
    breakdown: str
    slow_plans: list[str]


def measure(layout: Layout, url: str, runs: int) -> list[Result]:
    indexed = make_engine(url)
    baseline = make_engine(url)
    event.listen(baseline, "connect", forbid_indexes)
    recorder = Recorder()
    recorder.attach(indexed)
    indexed_uow = UnitOfWork(make_session_factory(indexed))
    baseline_uow = UnitOfWork(make_session_factory(baseline))
    results = []
    try:
        for query in queries(layout, indexed):
            fast, p95, page = timed_ms(lambda: services.search(indexed_uow, **query.kwargs), runs)
            slow, _ = median_ms(lambda: services.search(baseline_uow, **query.kwargs), max(3, runs // 4))
            with recorder.recording() as statements:
                services.search(indexed_uow, **query.kwargs)
            listing = next(s for s in statements if is_listing(s[0]))
            count = next((s for s in statements if is_count(s[0])), ("", {}, 0.0))
            other = sum(s[2] for s in statements) - listing[2] - count[2]
            breakdown = (f"count {count[2]:.1f} ms, listing {listing[2]:.1f} ms, "
                         f"{len(statements) - 2} other statements {other:.1f} ms")
            slow_plans = []
            if fast > SLOW_MS:
                for name, (statement, parameters, _ms) in (("count", count), ("listing", listing)):
                    if not statement:
                        continue
                    analyzed = explain(indexed, statement, parameters, analyze=True)
                    slow_plans.append(f"-- {name} query --\n{statement}\n{parameters}\n{analyzed}")
            results.append(Result(query, fast, p95, slow, page.total if page.exact else -page.total,
                                  plan_summary(explain(indexed, *listing[:2])), breakdown, slow_plans))
            print(f"  {query.label}: {fast:.2f} ms / {slow:.2f} ms", flush=True)
    finally:
        indexed.dispose()
        baseline.dispose()
    return results


def report(results: Sequence[Result], layout: Layout, runs: int) -> None:
    width = max(len(r.query.label) for r in results)
    print()
    print(f"search() on {layout.rows:,} connections, {layout.suppliers + CUSTOMERS:,} companies; "
          f"p50 of {runs} runs (baseline: {max(3, runs // 4)} runs, index scans disabled)")
    header = (f"{'query':<{width}}  {'indexed ms':>10}  {'p95 ms':>7}  {'no-index ms':>11}  {'ratio':>7}  "
              f"{'total':>8}")
    print(header)
    print("-" * len(header))
    for r in results:
        flag = "  SLOW" if r.indexed_ms > SLOW_MS else ""
        total = f"{r.total:,}" if r.total >= 0 else f">{-r.total:,}"  # negative: a bounded count
        print(f"{r.query.label:<{width}}  {r.indexed_ms:>10.2f}  {r.indexed_p95_ms:>7.2f}  {r.baseline_ms:>11.2f}  "
              f"{r.baseline_ms / r.indexed_ms:>6.1f}x  {total:>8}{flag}")
    print()
    print("Listing-query plans (indexed run) and where one indexed call spends its time:")
    for r in results:
        print(f"  {r.query.label}\n    plan: {r.plan}\n    time: {r.breakdown}")
    for r in results:
        for text_plan in r.slow_plans:
            print(f"\n=== {r.query.label}: over {SLOW_MS:.0f} ms, EXPLAIN (ANALYZE, BUFFERS) ===")
            print(text_plan)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL,
                        help="PostgreSQL server URL (a database there is created and dropped); "
                             "default $TAUTAN_BENCH_POSTGRES_URL or the local test server")
    parser.add_argument("--rows", type=int, default=1_000_000, help="connections to seed")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per query (median and p95)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--allow-remote", action="store_true", help="accept a non-loopback host")
    args = parser.parse_args(argv)
    if args.rows < 1_000 or args.runs < 1:
        parser.error("--rows must be at least 1000 and --runs at least 1")
    url = make_url(args.url)
    if url.get_backend_name() != "postgresql":
        parser.error("--url must be a PostgreSQL URL")
    if url.host not in LOOPBACK and not args.allow_remote:
        parser.error(f"refusing to create databases on {url.host}; pass --allow-remote to do so")

    layout = plan_layout(args.rows)
    with throwaway_database(args.url, args.keep) as bench_url:
        started = time.perf_counter()
        upgrade(bench_url)
        print("migrated; seeding", flush=True)
        engine = make_engine(bench_url)
        try:
            seed(engine, layout)
        finally:
            engine.dispose()
        print(f"seeded in {time.perf_counter() - started:.1f} s; timing", flush=True)
        results = measure(layout, bench_url, args.runs)
        report(results, layout, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
