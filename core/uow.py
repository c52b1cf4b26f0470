"""The unit of work: one transaction per use case, events written in the same commit."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from tautan.core.errors import ConcurrentChange, TautanError, Unavailable
from tautan.core.events import NOTIFY, Channel, EventKind, Via
from tautan.core.model import (
    Company,
    Connection,
    Event,
    Invitation,
    Outbox,
    OutboxStatus,
)

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]



def system_clock() -> dt.datetime:
    """The real clock, injected by the composition root; services only ever call ``uow.now()``."""
    return dt.datetime.now(dt.timezone.utc)


class UnitOfWork:
    """``with uow: ...; uow.commit()`` — nothing is kept unless ``commit()`` is called.

    Database failures become engine errors here, in one place: a lost race (a stale version or a
    duplicate key) is a ``ConcurrentChange`` the user can retry, an unreachable database is
    ``Unavailable``.
    """

    session: Session

    def __init__(self, session_factory: sessionmaker[Session], clock: Clock = system_clock) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self._savepoints: list[tuple[SessionTransaction, int]] = []
        self._depth = 0

    def __enter__(self) -> Self:
        if self._depth:
            # Entered again while open (a service called inside a larger unit of work, such as
            # processing one inbound message): a savepoint, so this part commits or rolls back
            # on its own, and everything becomes durable with the outer commit.
            self._depth += 1
            self._savepoints.append((self.session.begin_nested(), len(self._notices)))
            return self
        self._depth = 1
        self.session = self.session_factory()
        self._now: dt.datetime | None = None
        self._notices: list[Event] = []
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._depth -= 1
        if self._depth:
            savepoint, notices = self._savepoints.pop()
            try:
                if savepoint.is_active:  # not committed: undo this part only
                    savepoint.rollback()
                    del self._notices[notices:]
            except sa_exc.DBAPIError:
                log.warning("rollback to savepoint failed", exc_info=True)
        else:
            try:
                self.session.rollback()
            except sa_exc.DBAPIError:
                log.warning("rollback failed", exc_info=True)
            finally:
                self.session.close()
        if exc is not None and not isinstance(exc, TautanError):
            translated = translate_db_error(exc)
            if translated is not None:
                raise translated from exc

    def now(self) -> dt.datetime:
        """The time of this unit of work: read once from the injected clock, the same for every row."""
        if self._now is None:
            self._now = self.clock()
            if self._now.tzinfo is None:
                raise ValueError("the clock must return timezone-aware datetimes")
        return self._now

    def record(self, kind: EventKind | str, *, actor: str, via: Via | str, customer: Company | None = None,
               supplier: Company | None = None, connection: Connection | None = None,
               invitation: Invitation | None = None, **details: Any) -> Event:
        """Add an event to this unit of work; it is committed with the change it describes. An
        unknown kind or channel is a programming error (``ValueError``), never a silent row."""
        kind, via = EventKind(kind), Via(via)
        event = Event(kind=kind, actor=actor, via=via, at=self.now(), details=details,
                      customer=customer, supplier=supplier, connection=connection,
                      invitation=invitation)
        self.session.add(event)
        if kind in NOTIFY and customer is not None:
            self._notices.append(event)
        return event

    def enqueue(self, *, channel: Channel | str, kind: str, recipient: str, lang: str,
                invitation: Invitation | None = None, **payload: Any) -> Outbox:
        """Add a message to deliver; it is committed with the change that calls for it and sent
        by the worker afterwards (never from inside this transaction)."""
        now = self.now()
        row = Outbox(channel=Channel(channel), kind=kind, recipient=recipient, lang=lang, invitation=invitation,
                     payload=payload, status=OutboxStatus.PENDING, attempts=0, created_at=now,
                     next_attempt_at=now)
        self.session.add(row)
        return row

    def commit(self) -> None:
        try:
            self._queue_notices()
            if self._savepoints:
                self._savepoints[-1][0].commit()
            else:
                self.session.commit()
        except sa_exc.SQLAlchemyError as error:
            translated = translate_db_error(error)
            if translated is None:
                raise
            raise translated from error


    def _queue_notices(self) -> None:
        """One notice per change: accepting an invitation for three document types, or a supplier
        asking to connect for three, is one message in the channel, not three."""
        if not self._notices:
            return
        self.session.flush()
        groups: dict[tuple[str, int | None, int | None, int | None], list[Event]] = {}
        for event in self._notices:
            # an invitation's change, or a change between one supplier and one customer (a request)
            key = ((event.kind, event.invitation_id, None, None) if event.invitation_id
                   else (event.kind, None, event.supplier_id, event.customer_id))
            groups.setdefault(key, []).append(event)
        for (kind, *_), events in groups.items():
            customer = events[0].customer
            assert customer is not None  # only events with a customer are queued as notices
            company = customer.root
            if not company.notices_wanted:  # no channel reads them: the events are the record
                continue
            self.enqueue(channel=Channel.SLACK, kind=kind, recipient=str(company.id), lang=company.locale,
                         invitation=events[0].invitation, event_ids=[e.id for e in events])
        self._notices = []


def translate_db_error(error: BaseException) -> TautanError | None:
    if isinstance(error, StaleDataError):
        return ConcurrentChange()
    if isinstance(error, sa_exc.IntegrityError):
        return ConcurrentChange()
    if isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        if _is_lock_conflict(error):
            return ConcurrentChange()
        log.error("database unavailable: %s", error.__class__.__name__)
        return Unavailable()
    return None


def _is_lock_conflict(error: sa_exc.DBAPIError) -> bool:
    # PostgreSQL serialization/deadlock failures and SQLite's busy lock are lost races, not outages.
    code = getattr(error.orig, "sqlstate", None)
    return code in ("40001", "40P01", "55P03") or "database is locked" in str(error.orig)
