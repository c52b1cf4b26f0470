"""The outbox: messages written in the same commit as the change that calls for them, delivered
later by the worker. Rows are claimed with ``FOR UPDATE SKIP LOCKED`` and a lease, so several
workers share the work, and a worker that dies mid-send only delays its rows until the lease ends.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import joinedload

from tautan.core.errors import TautanError
from tautan.core.lease import LEASE
from tautan.core.lease import renew as lease_renew
from tautan.core.model import Company, Connection, DocumentType, Invitation, Outbox, OutboxStatus
from tautan.core.services.invitations import record_undeliverable
from tautan.core.uow import UnitOfWork
from tautan.core.views import ConnectionView, InvitationView, invitation_view

log = logging.getLogger(__name__)

# Temporary failures are retried with growing pauses, for as long as a mail server would keep
# trying (five days); a relay that is down loses nothing.
RETRY_DELAYS = tuple(dt.timedelta(minutes=m) for m in (1, 5, 15, 30, 60))
GIVE_UP_AFTER = dt.timedelta(days=5)
# A channel notice older than this is news no team wants (a channel chosen after an outage
# would otherwise be flooded with it); it is marked failed, the event stays in the history.
NOTICE_TTL = dt.timedelta(days=1)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    channel: str
    kind: str
    recipient: str
    lang: str
    attempts: int
    created_at: dt.datetime
    invitation: InvitationView | None
    payload: dict[str, Any] = field(default_factory=dict)
    # The first invitation email of this row's invitation (its row id and creation time, which make
    # its Message-ID), so later mail about it can say In-Reply-To/References and stay one thread.
    thread: tuple[int, dt.datetime] | None = None


def claim(uow: UnitOfWork, *, channel: str, limit: int = 20, lease: dt.timedelta = LEASE) -> list[OutboxItem]:
    """Take up to ``limit`` due messages for this worker; nobody else gets them until the lease ends."""
    with uow:
        now = uow.now()
        rows = list(uow.session.scalars(
            select(Outbox).where(
                Outbox.channel == channel,
                or_(Outbox.status == OutboxStatus.PENDING,
                    (Outbox.status == OutboxStatus.SENDING) & (Outbox.lease_until <= now)),
                Outbox.next_attempt_at <= now)
            .order_by(Outbox.next_attempt_at, Outbox.id).limit(limit)
            .with_for_update(skip_locked=True, of=Outbox)
            .options(joinedload(Outbox.invitation).options(
                joinedload(Invitation.customer).selectinload(Company.parent), joinedload(Invitation.supplier)))))
        if not rows:
            return []
        connections = _connections(uow, [row.invitation for row in rows if row.invitation is not None])
        # One statement takes the whole batch (the rows are locked above).
        uow.session.execute(
            update(Outbox).where(Outbox.id.in_([row.id for row in rows]))
            .values(status=OutboxStatus.SENDING, lease_until=now + lease, attempts=Outbox.attempts + 1)
            .execution_options(synchronize_session=False))
        threads = _threads(uow, {row.invitation_id for row in rows if row.invitation_id is not None})
        items = [OutboxItem(
            id=row.id, channel=row.channel, kind=row.kind, recipient=row.recipient, lang=row.lang,
            attempts=row.attempts + 1, created_at=row.created_at, payload=dict(row.payload or {}),
            invitation=invitation_view(row.invitation, connections=connections.get(row.invitation.id, ()))
            if row.invitation is not None else None,
            thread=threads.get(row.invitation_id) if row.invitation_id is not None else None) for row in rows]
        uow.commit()
    return items


def _connections(uow: UnitOfWork, invitations: list[Invitation]) -> dict[int, tuple[ConnectionView, ...]]:
    """The connections of these invitations, read as rows: a batch's thousands of them need no
    objects. Their customer and supplier are the invitation's, already loaded."""
    if not invitations:
        return {}
    companies = {company.id: company for invitation in invitations
                 for company in (invitation.customer, invitation.supplier)}

    def company(company_id: int) -> Company:
        return companies.get(company_id) or uow.session.get_one(Company, company_id)

    found: dict[int, list[ConnectionView]] = {}
    for row in uow.session.execute(
            select(Connection.id, Connection.customer_id, Connection.supplier_id, DocumentType.code,
                   Connection.status, Connection.invitation_id, Connection.created_at, Connection.updated_at)
            .join(DocumentType, DocumentType.id == Connection.type_id)
            .where(Connection.invitation_id.in_([invitation.id for invitation in invitations]))
            .order_by(Connection.invitation_id, Connection.type_id)):
        found.setdefault(row.invitation_id, []).append(ConnectionView(
            id=row.id, customer_id=row.customer_id, customer=company(row.customer_id).display_name,
            supplier_id=row.supplier_id, supplier=company(row.supplier_id).name, type=row.code, status=row.status,
            invitation_id=row.invitation_id, created_at=row.created_at, updated_at=row.updated_at))
    return {invitation_id: tuple(views) for invitation_id, views in found.items()}


def _threads(uow: UnitOfWork, invitation_ids: set[int]) -> dict[int, tuple[int, dt.datetime]]:
    """The first invitation email of each invitation: its row id and creation time."""
    if not invitation_ids:
        return {}
    first = select(Outbox.invitation_id, func.min(Outbox.id).label("first_id")).where(
        Outbox.invitation_id.in_(invitation_ids), Outbox.kind == "invitation").group_by(
        Outbox.invitation_id).subquery()
    return {invitation_id: (row_id, created_at) for invitation_id, row_id, created_at in uow.session.execute(
        select(first.c.invitation_id, Outbox.id, Outbox.created_at).join(first, Outbox.id == first.c.first_id))}


def renew(uow: UnitOfWork, *, ids: Sequence[int], lease: dt.timedelta = LEASE) -> int:
    """Extend the lease of rows this process still works on (its heartbeat); returns how many."""
    return lease_renew(uow, Outbox, OutboxStatus.SENDING, ids=ids, lease=lease)


def expire_stale(uow: UnitOfWork, *, channel: str, older_than: dt.timedelta = NOTICE_TTL) -> int:
    """Give up on undelivered rows of ``channel`` created longer ago than ``older_than``."""
    with uow:
        now = uow.now()
        result = uow.session.execute(update(Outbox).where(
            Outbox.channel == channel, Outbox.status == OutboxStatus.PENDING,
            Outbox.created_at < now - older_than).values(status=OutboxStatus.FAILED, last_error="expired: too old"))
        uow.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def delivered(uow: UnitOfWork, *, outbox_id: int, invitation_id: int | None = None) -> None:
    """Mark one message sent."""
    delivered_many(uow, outbox_ids=[outbox_id], invitation_ids=[invitation_id] if invitation_id else [])


def delivered_many(uow: UnitOfWork, *, outbox_ids: Sequence[int], invitation_ids: Sequence[int] = ()) -> None:
    """Mark a batch of messages sent: one statement for the messages, one for the invitations
    they were for, one commit. A crash before this runs sends the batch again, with the same
    Message-IDs (at least once, never silently lost)."""
    if not outbox_ids:
        return
    with uow:
        now = uow.now()
        uow.session.execute(update(Outbox).where(Outbox.id.in_(outbox_ids)).values(
            status=OutboxStatus.SENT, sent_at=now, lease_until=None, last_error=None))
        if invitation_ids:
            uow.session.execute(update(Invitation).where(Invitation.id.in_(sorted(set(invitation_ids)))).values(
                last_sent_at=now, version=Invitation.version + 1))
        uow.commit()


def failed(uow: UnitOfWork, *, outbox_id: int, error: str, permanent: bool) -> bool:
    """Record a failed attempt. Returns True when the message is given up on (a permanent
    failure, or temporary ones for too long); the caller then tells whoever needs to know."""
    with uow:
        now = uow.now()
        row = uow.session.get(Outbox, outbox_id, with_for_update=True)
        if row is None:
            return False
        row.last_error = error[:2000]
        row.lease_until = None
        give_up = permanent or now - row.created_at >= GIVE_UP_AFTER
        if give_up:
            row.status = OutboxStatus.FAILED
            if row.invitation is not None and row.kind in ("invitation", "reminder"):
                record_undeliverable(uow, row.invitation, reason=error[:500], actor="system", via="system")
        else:
            row.status = OutboxStatus.PENDING
            row.next_attempt_at = now + RETRY_DELAYS[min(row.attempts, len(RETRY_DELAYS)) - 1]
        uow.commit()
    return give_up


def record_failure(uow: UnitOfWork, *, outbox_id: int, error: str, permanent: bool) -> bool | None:
    """``failed()`` for a delivery loop: True when the message is given up on, False when it will be
    retried, None when not even the failure could be recorded (the lease brings the row back)."""
    try:
        gave_up = failed(uow, outbox_id=outbox_id, error=error, permanent=permanent)
    except TautanError:
        log.warning("outbox %s: could not record the failure; the lease brings it back", outbox_id)
        return None
    if gave_up:
        log.warning("outbox %s: gave up: %s", outbox_id, error)
    return gave_up


def retry_at(uow: UnitOfWork, outbox_id: int, at: dt.datetime, *, error: str) -> bool:
    """Put a row back until ``at`` (a rate limit's Retry-After), instead of the outbox's longer
    backoff. Returns True when the row has been failing for too long and is given up on."""
    with uow:
        row = uow.session.get(Outbox, outbox_id, with_for_update=True)
        if row is None:
            return False
        now = uow.now()
        row.last_error = error
        row.lease_until = None
        give_up = now - row.created_at >= GIVE_UP_AFTER
        if give_up:
            row.status = OutboxStatus.FAILED
        else:
            row.status = OutboxStatus.PENDING
            row.next_attempt_at = max(at, now)
        uow.commit()
    return give_up


def remember_sent(uow: UnitOfWork, outbox_id: int, recipients: list[str]) -> None:
    """Keep, in the row's payload, who has already been told (``sent_to``): a row that goes to
    several places and is retried never tells one of them twice."""
    with uow:
        row = uow.session.get(Outbox, outbox_id, with_for_update=True)
        if row is not None:
            uow.session.execute(update(Outbox).where(Outbox.id == outbox_id).values(
                payload={**(row.payload or {}), "sent_to": recipients}))
        uow.commit()
