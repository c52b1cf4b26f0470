"""Import speed: ``tautan import`` of a CSV file (reading, checking every row by the rules of
``invite``, inserting in bulk) against ``executemany`` of the same rows into the same tables
(people, companies, memberships, invitations, connections, events, outbox), in the same run.

    python -m bench.imports [--messages 10000] [--rounds 3] [--url POSTGRESQL_SERVER_URL]

Each round imports new suppliers into the same database, so the companies table grows by the
file's size every round: the time per row must not grow with it.
"""

from __future__ import annotations

import datetime as dt
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from bench import common
from tautan.bulk import import_invitations
from tautan.core import services
from tautan.core.i18n import translator
from tautan.core.model import Company, Connection, Event, Invitation, Membership, Outbox, Person, Role
from tautan.settings import Settings
from tautan.wiring import Container


def write_csv(folder: Path, prefix: str, count: int) -> Path:
    path = folder / f"{prefix}.csv"
    lines = ["email,supplier,types,lang,message"]
    lines += [f"sales{i}@{prefix}-supplier{i}.co.id,PT {prefix} Pemasok {i},invoice;order,{'id' if i % 2 else 'en'},"
              "Mohon bergabung" for i in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def executemany(container: Container, customer_id: int, prefix: str, count: int) -> float:
    """The same rows an import of ``count`` lines writes, inserted with executemany (ids chosen here)."""
    now = dt.datetime.now(dt.timezone.utc)
    with container.engine.connect() as connection:
        base = max(connection.scalar(select(func.max(t.id))) or 0
                   for t in (Company, Person, Invitation, Connection)) + 1
    ids = range(base, base + count)
    people = [{"id": i, "email": f"sales{i}@{prefix}-x{i}.co.id", "created_at": now} for i in ids]
    companies = [{"id": i, "name": f"PT {prefix} X {i}", "name_key": f"pt {prefix} x {i}",
                  "search_name": f"pt {prefix} x {i}", "parent_key": 0, "role": Role.SUPPLIER,
                  "slug": f"pt-{prefix}-x-{i}", "locale": "id", "created_at": now} for i in ids]
    memberships = [{"company_id": i, "person_id": i, "role": "contact"} for i in ids]
    invitations = [{"id": i, "customer_id": customer_id, "supplier_id": i, "email": f"sales{i}@{prefix}-x{i}.co.id",
                    "lang": "id", "message": "Mohon bergabung", "inviter": "bench",
                    "reply_token": secrets.token_hex(16),
                    "status": "pending", "created_at": now, "invited_at": now, "expires_at": now,
                    "reminders_sent": 0, "version": 1} for i in ids]
    connections = [{"id": 2 * i + k, "customer_id": customer_id, "supplier_id": i, "type_id": k + 1,
                    "status": "invited", "invitation_id": i, "created_at": now, "updated_at": now, "version": 1}
                   for i in ids for k in (0, 1)]
    events = [{"kind": "invited", "actor": "bench", "via": "cli", "at": now, "customer_id": customer_id,
               "supplier_id": c["supplier_id"], "connection_id": c["id"], "invitation_id": c["invitation_id"],
               "details": {"type": "invoice", "previous": None, "status": "invited"}} for c in connections]
    outbox = [{"channel": "email", "kind": "invitation", "recipient": v["email"], "lang": "id",
               "invitation_id": v["id"], "payload": {}, "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}
              for v in invitations]
    start = time.perf_counter()
    with container.engine.begin() as connection:
        for model, rows in ((Person, people), (Company, companies), (Membership, memberships),
                            (Invitation, invitations), (Connection, connections), (Event, events), (Outbox, outbox)):
            connection.execute(insert(model.__table__), rows)
    seconds = time.perf_counter() - start
    if container.engine.dialect.name == "postgresql":  # the ids were chosen here: move the sequences on
        with container.engine.begin() as connection:
            for table in ("people", "companies", "invitations", "connections"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT max(id) FROM {table}))"))
    return seconds


def run(url: str, count: int, rounds: int) -> None:
    container = Container(Settings(database_url=url, secret_keys=("bench",), mail_domain="bench.example.id"))
    customer = services.create_company(container.uow(), name="PT Bench Pembeli", roles=[Role.CUSTOMER],
                                       actor="bench", via="cli")
    t = translator("en")
    ours, baseline, companies = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        for n in range(rounds):
            with container.engine.connect() as connection:
                companies.append(connection.scalar(select(func.count()).select_from(Company)) or 0)
            path = write_csv(Path(folder), f"r{n}", count)
            start = time.perf_counter()
            results = import_invitations(container, str(path), customer="PT Bench Pembeli", unit=None, types="invoice",
                                         lang=None, actor="cli:bench", t=t, progress=False)
            ours.append(time.perf_counter() - start)
            assert sum(r["status"] == "invited" for r in results) == count, results[:3]
            baseline.append(executemany(container, customer.id, f"b{n}", count))
    container.close()
    base, mine = statistics.median(baseline), statistics.median(ours)
    backend = make_url(url).get_backend_name()
    print(f"import, {count} rows (2 document types each), {backend}, median of {rounds} rounds")
    print(f"  executemany of the same rows     : {count / base:8.0f} rows/s  ({base * 1000:.0f} ms)")
    print(f"  tautan import (read, check, bulk): {count / mine:8.0f} rows/s  ({mine * 1000:.0f} ms)")
    print(f"  ratio import / executemany       : {base / mine:8.2f}  (1.00 = as fast as inserting the rows blind)")
    for n, (seconds, existing) in enumerate(zip(ours, companies, strict=False), start=1):
        print(f"  round {n}: {existing:7d} companies before, {seconds / count * 1e6:6.0f} µs a row")


def main(argv: list[str] | None = None) -> None:
    common.main(__doc__ or "", run, argv, default_count=10_000)


if __name__ == "__main__":
    main()
