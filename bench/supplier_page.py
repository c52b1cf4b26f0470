"""Latency of the supplier page, ``/s/connections``, for a supplier with many customers.

    python -m bench.supplier_page [--requests 300] [--url POSTGRES_SERVER_URL | --no-postgres]

One supplier company with 2,000 connections across 500 customers (each with one unit, so 1,000
customers-or-units with two document types each), an event per connection (people and Slack
admins as actors). A contact signs in through the real pages (the emailed link, the button), then
the signed-in page is fetched under Starlette's TestClient: the first page, a customer search and
a status filter. The baseline, in the same run and interleaved, is ``/healthz`` (the same app and
middleware, no database). Runs on a SQLite file, then on a throw-away PostgreSQL database on the
server at ``--url`` (default: the local server the tests use), unless ``--no-postgres``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, insert, select

from bench.common import analyze, database
from tautan.core import services
from tautan.core.model import Company, Connection, DocumentType, Event, Membership, Person, Role, Status, search_key
from tautan.settings import Settings
from tautan.wiring import Container

CUSTOMERS = 500
CONNECTIONS = 2000
KEYS = ("bench",)
BASE = "http://testserver"
EMAIL = "ana@pt-bench.co.id"
STATUS_MIX = (Status.CONNECTED,) * 5 + (Status.INVITED, Status.REQUESTED, Status.REJECTED, Status.DISCONNECTED,
                                        Status.EXPIRED)
DEFAULT_POSTGRES = os.environ.get("TAUTAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def seed(container: Container) -> None:
    engine: Engine = container.engine
    now = dt.datetime.now(dt.timezone.utc)
    supplier = services.create_company(container.uow(), name="PT Bench Pemasok", roles=[Role.SUPPLIER],
                                       actor="bench", via="cli")
    with engine.begin() as connection:
        types = list(connection.scalars(select(DocumentType.id).order_by(DocumentType.id)))
        person_id = connection.execute(insert(Person).values(email=EMAIL, name="Ana", created_at=now)
                                       .returning(Person.id)).scalar_one()
        connection.execute(insert(Membership).values(company_id=supplier.id, person_id=person_id, role="contact"))
        first = (connection.scalar(select(Company.id).order_by(Company.id.desc()).limit(1)) or 0) + 1
        companies, units = [], []
        for n in range(CUSTOMERS):
            name = f"PT Pelanggan {n:04d}"
            companies.append({"id": first + n, "name": name, "parent_key": 0, "name_key": search_key(name),
                              "search_name": search_key(name), "role": Role.CUSTOMER, "slug": f"pt-pelanggan-{n:04d}",
                              "parent_id": None, "locale": "id", "created_at": now})
            units.append({"id": first + CUSTOMERS + n, "name": "Cabang", "parent_key": first + n,
                          "name_key": "cabang", "search_name": "cabang", "role": Role.CUSTOMER,
                          "slug": f"pt-pelanggan-{n:04d}-cabang", "parent_id": first + n, "locale": "id",
                          "created_at": now})
        connection.execute(insert(Company), companies)
        connection.execute(insert(Company), units)
        owners = [first + n for n in range(2 * CUSTOMERS)]
        rows = []
        for n in range(CONNECTIONS):
            changed = now - dt.timedelta(minutes=n)
            rows.append({"customer_id": owners[n // 2], "supplier_id": supplier.id, "type_id": types[n % 2 + 1],
                         "status": STATUS_MIX[n % len(STATUS_MIX)], "invitation_id": None, "created_at": changed,
                         "updated_at": changed, "version": 1})
        connection.execute(insert(Connection), rows)
        ids = list(connection.execute(select(Connection.id, Connection.customer_id, Connection.status,
                                             Connection.updated_at).where(Connection.supplier_id == supplier.id)))
        connection.execute(insert(Event), [
            {"kind": "accepted" if status == Status.CONNECTED else "invited", "via": "slack",
             "actor": f"email:{EMAIL}" if i % 2 else "slack:T1/U1", "at": at, "customer_id": customer_id,
             "supplier_id": supplier.id, "connection_id": cid, "invitation_id": None, "details": {"status": status}}
            for i, (cid, customer_id, status, at) in enumerate(ids)])
    analyze(engine)


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def timed(get: Callable[[str], Any], path: str, expect: str | None = None) -> float:
    start = time.perf_counter()
    response = get(path)
    took = time.perf_counter() - start
    if response.status_code != 200 or (expect and expect not in response.text):
        raise SystemExit(f"{path}: HTTP {response.status_code}: {response.text[:300]}")
    return took


def run(url: str, requests: int) -> dict[str, tuple[float, float]]:
    from starlette.testclient import TestClient

    from tautan.web import create_app
    from tests.support.supplier import sign_in

    container = Container(Settings(database_url=url, secret_keys=KEYS, public_base_url=BASE))
    try:
        started = time.perf_counter()
        seed(container)
        name = container.engine.dialect.name
        print(f"{name}: {CONNECTIONS:,} connections across {CUSTOMERS} customers seeded in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        with TestClient(create_app(container)) as client:
            sign_in(client, container.engine, KEYS, BASE, EMAIL)
            paths = {
                "/healthz (base)": ("/healthz", "ok"),
                "/s/connections": ("/s/connections", "Page 1 of 50"),
                "?customer=0042": ("/s/connections?customer=0042", "PT Pelanggan 0042"),
                "?status=connected&type=invoice": ("/s/connections?status=connected&type=invoice", "<h2"),
            }
            for _ in range(20):  # warm up
                for path, expect in paths.values():
                    timed(client.get, path, expect)
            results: dict[str, list[float]] = {label: [] for label in paths}
            for _ in range(requests):  # interleaved, so drift hits every path alike
                for label, (path, expect) in paths.items():
                    results[label].append(timed(client.get, path, expect))
    finally:
        container.close()
    base = statistics.median(results["/healthz (base)"]), percentile(results["/healthz (base)"], 99)
    print(f"{name}: {requests} requests each; milliseconds")
    print(f"  {'':34}{'p50':>8}{'p99':>8}{'p50 ratio':>11}{'p99 ratio':>11}")
    summary = {}
    for label, values in results.items():
        p50, p99 = statistics.median(values), percentile(values, 99)
        summary[label] = (p50, p99)
        print(f"  {label:34}{p50 * 1000:8.2f}{p99 * 1000:8.2f}{p50 / base[0]:11.1f}{p99 / base[1]:11.1f}")
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="measured requests per path")
    parser.add_argument("--url", default=DEFAULT_POSTGRES, help="the PostgreSQL server to bench on")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    with database(None) as url:
        run(url, args.requests)
    if not args.no_postgres:
        with database(args.url) as url:
            run(url, args.requests)


if __name__ == "__main__":
    main()
