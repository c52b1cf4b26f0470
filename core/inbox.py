"""The inbox: every inbound message is stored raw before the transport acknowledges it, then
processed from here. Storing is idempotent by ``dedup_key`` (Message-ID, recipients and body), and
rows are claimed with a lease, so a crash between storing and processing only delays a message.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tautan.core.errors import ConcurrentChange
from tautan.core.lease import LEASE
from tautan.core.lease import renew as lease_renew
from tautan.core.model import Inbox, InboxStatus, Outbox
from tautan.core.uow import UnitOfWork

MAX_ATTEMPTS = 5
# How many stored messages one transaction processes at most (``process_batch``), and for how
# long it starts new ones: the rows it took stay locked until it commits.
BATCH = 20
BATCH_SECONDS = 0.05


@dataclass(frozen=True)
class Stored:
    id: int
    duplicate: bool


@dataclass(frozen=True)
class InboxItem:
    id: int
    raw: bytes
    mail_from: str
    rcpt_tos: tuple[str, ...]
    source: str
    attempts: int
    received_at: dt.datetime


def store(uow: UnitOfWork, *, dedup_key: str, message_id: str | None, source: str, mail_from: str,
          rcpt_tos: Sequence[str], raw: bytes) -> Stored:
    """Keep a message. The same message again (same ``dedup_key``) is not stored twice."""
    return store_many(uow, [Incoming(dedup_key=dedup_key, message_id=message_id, source=source,
                                     mail_from=mail_from, rcpt_tos=tuple(rcpt_tos), raw=raw)])[0]


@dataclass(frozen=True)
class Incoming:
    """A message to keep, as ``store`` takes it."""

    dedup_key: str
    message_id: str | None
    source: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes


def store_many(uow: UnitOfWork, messages: Sequence[Incoming]) -> list[Stored]:
    """Keep several messages with ONE statement: a multi-row INSERT with the duplicate check done
    by the database (``ON CONFLICT DO NOTHING`` on the inbox's unique key), run as a transaction
    of its own (on PostgreSQL a single round trip): when this returns, every one is durable. One
    result per message, in order."""
    if not messages:
        return []
    now = uow.now()
    rows = [{"dedup_key": m.dedup_key, "message_id": m.message_id, "source": m.source[:200],
             "mail_from": m.mail_from[:320], "rcpt_tos": list(m.rcpt_tos), "raw": m.raw, "size": len(m.raw),
             "received_at": now, "status": InboxStatus.NEW, "attempts": 0} for m in messages]
    new = {str(row.dedup_key): int(row.id) for row in uow.execute_alone(_insert_ignoring_duplicates(uow), rows)}
    results, seen = [], set()
    for message in messages:
        id_ = new.get(message.dedup_key)
        # the same message twice in one group is a duplicate of the row the first one made
        duplicate = id_ is None or message.dedup_key in seen
        seen.add(message.dedup_key)
        results.append(Stored(id=id_ if id_ is not None else _existing(uow, message.dedup_key), duplicate=duplicate))
    return results


_INSERTS: dict[str, Any] = {}


def _insert_ignoring_duplicates(uow: UnitOfWork) -> Any:
    """The INSERT of ``store_many``, built once per dialect (then only its parameters change)."""
    dialect = uow.session_factory.kw["bind"].dialect.name
    found = _INSERTS.get(dialect)
    if found is None:
        insert = postgresql.insert(Inbox) if dialect == "postgresql" else sqlite.insert(Inbox)
        found = _INSERTS[dialect] = insert.on_conflict_do_nothing().returning(Inbox.id, Inbox.dedup_key)
    return found


def _existing(uow: UnitOfWork, dedup_key: str) -> int:
    found = uow.execute_alone(select(Inbox.id).where(Inbox.dedup_key == dedup_key))
    if not found:  # stored by nobody, yet in conflict: only possible if the key changed under us
        raise ConcurrentChange()
    return int(found[0][0])


def claim(uow: UnitOfWork, *, limit: int = 20, lease: dt.timedelta = LEASE,
          ids: Sequence[int] | None = None) -> list[InboxItem]:
    """Take stored messages to process: new ones, and ones whose processor died (lease over)."""
    with uow:
        now = uow.now()
        query = (select(Inbox).where(
            or_(Inbox.status == InboxStatus.NEW,
                (Inbox.status == InboxStatus.PROCESSING) & (Inbox.lease_until <= now)))
            .order_by(Inbox.received_at, Inbox.id).limit(limit).with_for_update(skip_locked=True))
        if ids is not None:
            query = query.where(Inbox.id.in_(ids))
        items = []
        for row in uow.session.scalars(query):
            row.status = InboxStatus.PROCESSING
            row.lease_until = now + lease
            row.attempts += 1
            items.append(InboxItem(id=row.id, raw=row.raw, mail_from=row.mail_from, rcpt_tos=tuple(row.rcpt_tos),
                                   source=row.source, attempts=row.attempts, received_at=row.received_at))
        uow.commit()
    return items


def renew(uow: UnitOfWork, *, ids: Sequence[int], lease: dt.timedelta = LEASE) -> int:
    """Extend the lease of rows this process still works on (its heartbeat); returns how many."""
    return lease_renew(uow, Inbox, InboxStatus.PROCESSING, ids=ids, lease=lease)


def process_batch(uow: UnitOfWork, handle: Callable[[InboxItem], tuple[str, bool]], *, limit: int = BATCH,
                  budget: float | None = None, ids: Sequence[int] | None = None,
                  skip: Collection[int] = (),
                  prepare: Callable[[Sequence[InboxItem]], object] | None = None) -> list[InboxItem]:
    """Take due messages (up to ``limit``, with one statement), hand each to ``handle`` and record
    their outcomes (one statement), in ONE transaction and one commit.

    ``handle`` runs inside this unit of work and returns (outcome, failed); services it calls
    with the same unit of work join the transaction. The rows stay locked (``FOR UPDATE SKIP
    LOCKED``) until the commit, so another processor skips them. The messages are distinct
    changes in the record (each has its own time and its own notices, ``UnitOfWork.next_change``).
    All or nothing: if anything fails, nothing of the batch is kept and every one is still due,
    so each is acted on exactly once (the caller then takes them one by one, ``limit=1``, where
    an error is told apart). No new message is started once ``budget`` seconds
    (``BATCH_SECONDS``) have gone, so the rows are not held locked for long; the ones not reached
    stay due. ``prepare`` is given every message taken before the first is handled (to load what
    they need together). Returns the messages handled, in order; empty when none was due."""
    uow.keep_loaded()  # the services ``handle`` calls about one reply load its rows once
    uow.redoable()  # if this commit is lost, the messages are still due and are processed again
    with uow:
        params: dict[str, Any] = {"now": uow.now(), "skip": list(skip), "limit": limit}
        if ids is not None:
            params["ids"] = list(ids)
        taken = [InboxItem(id=row.id, raw=row.raw, mail_from=row.mail_from, rcpt_tos=tuple(row.rcpt_tos),
                           source=row.source, attempts=row.attempts + 1, received_at=row.received_at)
                 for row in uow.session.scalars(_DUE_OF_IDS if ids is not None else _DUE, params)]
        if not taken:
            return []  # nothing to keep: the transaction ends without a commit
        if prepare is not None:
            prepare(taken)
        deadline = time.monotonic() + (BATCH_SECONDS if budget is None else budget)
        items: list[InboxItem] = []
        outcomes: list[dict[str, Any]] = []
        for item in taken:
            if items and time.monotonic() > deadline:
                break
            uow.next_change()
            outcome, failed = handle(item)
            items.append(item)
            outcomes.append({"row_id": item.id, "new_attempts": item.attempts, "new_outcome": outcome[:64],
                             "new_status": InboxStatus.FAILED if failed else InboxStatus.DONE,
                             "new_processed_at": uow.now()})
        if outcomes:  # the attempt is counted with the outcome: both or neither
            uow.session.connection().execute(_DONE, outcomes)
        uow.commit()
    return items


# The statements of ``process_batch``, built once (building one costs about as much as running it).
_DUE = (select(Inbox).where(
    or_(Inbox.status == InboxStatus.NEW,
        (Inbox.status == InboxStatus.PROCESSING) & (Inbox.lease_until <= bindparam("now"))),
    Inbox.id.not_in(bindparam("skip", expanding=True)))
    .order_by(Inbox.received_at, Inbox.id).limit(bindparam("limit")).with_for_update(skip_locked=True))
_DUE_OF_IDS = _DUE.where(Inbox.id.in_(bindparam("ids", expanding=True)))
_INBOX_TABLE = Inbox.__table__
assert isinstance(_INBOX_TABLE, Table)
# a Core statement, run for several rows at once (an executemany)
_DONE = update(_INBOX_TABLE).where(_INBOX_TABLE.c.id == bindparam("row_id")).values(
    attempts=bindparam("new_attempts"), status=bindparam("new_status"), outcome=bindparam("new_outcome"),
    error=None, processed_at=bindparam("new_processed_at"), lease_until=None)


def finish(uow: UnitOfWork, *, inbox_id: int, outcome: str, failed: bool = False, error: str | None = None) -> None:
    """Record how a message was handled. A failure is kept, with its error, for a person to look at."""
    with uow:
        uow.session.execute(update(Inbox).where(Inbox.id == inbox_id).values(
            status=InboxStatus.FAILED if failed else InboxStatus.DONE, outcome=outcome[:64],
            error=error[:2000] if error else None, processed_at=uow.now(), lease_until=None))
        uow.commit()


def retry_later(uow: UnitOfWork, *, inbox_id: int, error: str, count_attempt: bool = False) -> None:
    """Processing hit a passing problem (the database, a lost race): try again, a few times.
    ``count_attempt``: the attempt was rolled back with the rest (``process_batch``), count it here."""
    with uow:
        row = uow.session.get(Inbox, inbox_id, with_for_update=True)
        if row is not None:
            row.attempts += count_attempt
            row.error = error[:2000]
            if row.attempts >= MAX_ATTEMPTS:
                row.status, row.outcome, row.processed_at = InboxStatus.FAILED, "gave_up", uow.now()
            else:
                row.status, row.lease_until = InboxStatus.NEW, None
        uow.commit()


def answers_sent(uow: UnitOfWork, *, recipient: str | None = None, domain: str | None = None,
                 kinds: Sequence[str], since: dt.timedelta) -> int:
    """How many answers of these kinds went to an address (or a whole domain) lately: for rate limits."""
    with uow.reading():
        query = select(func.count()).select_from(Outbox).where(
            Outbox.kind.in_(kinds), Outbox.created_at > uow.now() - since)
        if recipient is not None:
            query = query.where(Outbox.recipient == recipient)
        if domain is not None:
            query = query.where(Outbox.recipient.like("%@" + domain.replace("%", "").replace("_", "\\_"),
                                                      escape="\\"))
        return uow.session.scalar(query) or 0


def status_of(uow: UnitOfWork, *, inbox_id: int) -> str | None:
    with uow.reading():
        return uow.session.scalar(select(Inbox.status).where(Inbox.id == inbox_id))
