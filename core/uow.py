"""The unit of work: one transaction per use case, events written in the same commit."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import weakref
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Engine, Executable, Row
from sqlalchemy import event as sa_event
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

# The execution option a read-only unit of work runs with: on SQLite its transaction begins
# deferred (``BEGIN``), so a read never takes the write lock a writer waits for.
READ_ONLY = "tautan_read_only"
# The execution option of a unit of work whose commit may be lost in a power cut without harm
# (``UnitOfWork.redoable``): it commits without waiting for the disk (SQLite ``synchronous=NORMAL``,
# PostgreSQL ``synchronous_commit=off``).
REDOABLE = "tautan_redoable"
_variants: weakref.WeakKeyDictionary[Engine, dict[str, Engine]] = weakref.WeakKeyDictionary()


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
        # one entry per open nested level: its savepoint (None: a level without one) and how
        # many notices there were when it began
        self._savepoints: list[tuple[SessionTransaction | None, int]] = []
        self._without_savepoint = False
        self._depth = 0
        self._now: dt.datetime | None = None
        self._read_only = False
        self._redoable = False
        self._keep_loaded = False
        self._notices: list[Event] = []
        # the notices of the earlier changes of this transaction (``next_change``), grouped
        self._changes: list[list[Event]] = []

    def __enter__(self) -> Self:
        if self._depth:
            # Entered again while open (a service called inside a larger unit of work, such as
            # processing one inbound message): a savepoint, so this part commits or rolls back
            # on its own, and everything becomes durable with the outer commit.
            self._depth += 1
            savepoint = None if self._without_savepoint else self.session.begin_nested()
            self._without_savepoint = False
            self._savepoints.append((savepoint, len(self._notices)))
            return self
        self._depth = 1
        if self._read_only or self._redoable:
            option = READ_ONLY if self._read_only else REDOABLE
            self.session = self.session_factory(bind=_variant(self._engine(), option))
        else:
            self.session = self.session_factory()
        if self._keep_loaded:
            self.session.info[_KEPT] = []
        self._now = None
        self._notices = []
        self._changes = []
        return self

    @contextlib.contextmanager
    def reading(self) -> Iterator[Self]:
        """For a service that only reads (``with uow.reading(): ...``). Inside an open unit of work
        it adds no savepoint, as there is nothing to undo; on its own it is a unit of work whose
        transaction takes no write lock (SQLite), so it never waits behind a writer."""
        if self._depth:
            yield self
            return
        self._read_only = True
        try:
            with self:
                yield self
        finally:
            self._read_only = False

    def checked_first(self) -> Self:
        """For a service that makes every check before its first change (``with
        uow.checked_first():``), such as one that only adds an event or a message to send: inside
        an open unit of work it adds no savepoint, as when it fails there is nothing of it to
        undo; its ``commit()`` leaves committing to the outer unit. On its own, an ordinary unit
        of work."""
        self._without_savepoint = bool(self._depth)
        return self

    def redoable(self) -> None:
        """Mark this unit of work as one whose commit may be lost in a power cut without harm,
        because it is done again afterwards: processing a stored message (the message stays due
        until the commit that records its outcome survives). Its commit then does not wait for
        the disk (SQLite ``synchronous=NORMAL``, PostgreSQL ``synchronous_commit=off``); it
        reaches the disk with the next commit that does wait (every other commit: the SMTP
        server's store, the worker claiming a message before sending it, a page's answer), as
        that sync covers everything written before it (both write one log, in order).
        So nothing anyone was told, or sent, rests on it. Call it before entering; it lasts until
        the unit of work ends."""
        self._redoable = True

    def next_change(self) -> None:
        """Between two changes made in one transaction (several stored messages processed
        together): the notices of the change before are grouped as its own (and queued at the
        commit, with the rest), and the next change reads the clock afresh. Only at the top
        level of an open unit."""
        if self._depth != 1:
            raise RuntimeError("next_change() belongs at the top level of an open unit of work")
        self._changes.extend(self._take_notices())  # made into notices at the commit, with the others
        self._now = None

    def keep_loaded(self) -> None:
        """Hold every object this unit of work loads until it ends. The session's identity map keeps
        only weak references, so an object a service loaded and turned into a view is gone by the
        time the next service of the same unit of work needs it, and is loaded again; a unit of
        work that calls several services about the same rows (processing one inbound message)
        loads each of them once. Call it before entering; it lasts until the unit of work ends."""
        self._keep_loaded = True

    def execute_alone(self, statement: Executable, params: Sequence[dict[str, Any]] | None = None) -> list[Row[Any]]:
        """Run one statement as a transaction of its own and return its rows: durable when this
        returns. On PostgreSQL it is one round trip (autocommit: no BEGIN, no COMMIT); several
        ``params`` make one multi-row statement where the dialect can. Inside an open unit of work
        it joins that unit's transaction instead."""
        try:
            if self._depth:
                return list(self.session.execute(statement, params).all())
            engine = self._engine()
            if engine.dialect.name == "postgresql":
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    return list(connection.execute(statement, params).all())
            if getattr(statement, "is_select", False):
                engine = _variant(engine, READ_ONLY)
            with engine.begin() as connection:
                return list(connection.execute(statement, params).all())
        except sa_exc.SQLAlchemyError as error:
            translated = translate_db_error(error)
            if translated is None:
                raise
            raise translated from error
        finally:
            if not self._depth:
                self._now = None  # the time ``now()`` gave for this statement is for it alone

    def _engine(self) -> Engine:
        bind = self.session_factory.kw["bind"]
        assert isinstance(bind, Engine)
        return bind

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._depth -= 1
        if self._depth:
            savepoint, notices = self._savepoints.pop()
            try:
                if savepoint is None:  # a level without one: it failed before changing anything
                    if exc is not None:
                        del self._notices[notices:]
                elif savepoint.is_active:  # not committed: undo this part only
                    savepoint.rollback()
                    del self._notices[notices:]
            except sa_exc.DBAPIError:
                log.warning("rollback to savepoint failed", exc_info=True)
        else:
            self._keep_loaded = self._redoable = False
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
            if self._savepoints:
                savepoint = self._savepoints[-1][0]
                if savepoint is not None:  # a level without one is committed with the outer unit
                    self._queue_notices(self._take_notices())
                    savepoint.commit()
            else:
                # the earlier changes of this transaction (``next_change``), then the last one
                groups, self._changes = [*self._changes, *self._take_notices()], []
                self._queue_notices(groups)
                self.session.commit()
        except sa_exc.SQLAlchemyError as error:
            translated = translate_db_error(error)
            if translated is None:
                raise
            raise translated from error


    def _take_notices(self) -> list[list[Event]]:
        """The notices of the change just made, grouped: one notice per change (accepting an
        invitation for three document types, or a supplier asking to connect for three, is one
        message in the channel, not three)."""
        groups: dict[tuple[object, ...], list[Event]] = {}
        for event in self._notices:
            # an invitation's change, or a change between one supplier and one customer (a
            # request); by the objects, as the events may not be written yet
            key = ((event.kind, event.invitation) if event.invitation is not None
                   else (event.kind, None, event.supplier, event.customer))
            groups.setdefault(key, []).append(event)
        self._notices = []
        return list(groups.values())

    def _queue_notices(self, groups: list[list[Event]]) -> None:
        """A Slack notice to deliver for each group whose company's team reads them."""
        wanted: list[tuple[Company, list[Event]]] = []
        for events in groups:
            customer = events[0].customer
            assert customer is not None  # only events with a customer are queued as notices
            if customer.root.notices_wanted:  # else no channel reads them: the events are the record
                wanted.append((customer.root, events))
        if not wanted:
            return
        self.session.flush()  # the events' ids
        for company, events in wanted:
            self.enqueue(channel=Channel.SLACK, kind=events[0].kind, recipient=str(company.id), lang=company.locale,
                         invitation=events[0].invitation, event_ids=[e.id for e in events])


_KEPT = "tautan_kept"


@sa_event.listens_for(Session, "loaded_as_persistent")
def _hold(session: Session, instance: object) -> None:
    kept = session.info.get(_KEPT)
    if kept is not None:
        kept.append(instance)


def _variant(engine: Engine, option: str) -> Engine:
    """``engine`` with the execution option ``option`` on (made once; it shares the pool)."""
    variants = _variants.setdefault(engine, {})
    found = variants.get(option)
    if found is None:
        found = variants[option] = engine.execution_options(**{option: True})
    return found


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
