"""What the email assistant needs to answer someone who wrote to us, and the record of how it
read each reply (including the confirmation questions it asked instead of acting)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import selectinload

from tautan.core.events import EventKind
from tautan.core.model import (
    Company,
    Connection,
    Event,
    Invitation,
    Membership,
    Person,
)
from tautan.core.services._base import _invitation, _type_codes, _via
from tautan.core.uow import UnitOfWork
from tautan.core.views import (
    ConnectionView,
    connection_view,
)


def answer(uow: UnitOfWork, *, recipient: str, kind: str, lang: str, invitation_id: int | None = None,
           **payload: object) -> None:
    """Queue an answer to someone who wrote to us (an unclear reply, HELP, STATUS, a request)."""
    with uow.checked_first():
        invitation = uow.session.get(Invitation, invitation_id) if invitation_id is not None else None
        uow.enqueue(channel="email", kind=kind, recipient=recipient, lang=lang, invitation=invitation, **payload)
        uow.commit()


def connections_of(uow: UnitOfWork, *, email: str, limit: int = 50) -> list[ConnectionView]:
    """The connections of the supplier companies an address belongs to (for STATUS by email):
    only its own, never anyone else's."""
    with uow.reading():
        session = uow.session
        companies = select(Membership.company_id).join(Person, Person.id == Membership.person_id).where(
            Person.email == email.lower())
        rows = session.scalars(
            select(Connection).where(Connection.supplier_id.in_(companies))
            .options(selectinload(Connection.customer).selectinload(Company.parent),
                     selectinload(Connection.supplier), selectinload(Connection.document_type))
            .order_by(Connection.updated_at.desc(), Connection.id.desc()).limit(limit))
        return [connection_view(c) for c in rows]




EXCERPT_LENGTH = 300


@dataclass(frozen=True)
class PendingConfirmation:
    """A reading tautan asked the supplier to confirm: what it would do, for which types."""

    event_id: int
    intent: str  # "accept" or "decline"
    accept: tuple[str, ...]
    decline: tuple[str, ...]


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 1] + "…"


def record_reading(uow: UnitOfWork, *, reply_token: str, outcome: str, text: str, signals: Sequence[str],
                   actor: str, via: str, lean: str | None = None) -> None:
    """Write how a reply was read into the invitation's history (a short excerpt of what it said),
    so an admin can see what the supplier wrote and why tautan did or did not act."""
    with uow.checked_first():
        invitation = _invitation(uow.session, None, reply_token)
        uow.record(EventKind.REPLY_READ, actor=actor, via=_via(via), customer=invitation.customer,
                   supplier=invitation.supplier, invitation=invitation, outcome=outcome, lean=lean,
                   signals=list(signals)[:20], excerpt=_excerpt(text))
        uow.commit()


def ask_confirmation(uow: UnitOfWork, *, reply_token: str, intent: str, accept: Sequence[str],
                     decline: Sequence[str], text: str, actor: str, via: str, lang: str,
                     **payload: object) -> None:
    """Instead of acting on a reply tautan is not sure of, keep the reading as the invitation's
    pending confirmation and queue the question to the supplier ("answer_confirm"), in one commit."""
    if intent not in ("accept", "decline"):
        raise ValueError(f"a confirmation is for accept or decline, not {intent!r}")
    accept_codes, decline_codes = _type_codes(accept) if accept else [], _type_codes(decline) if decline else []
    with uow:
        invitation = _invitation(uow.session, None, reply_token)
        _confirmation_changes(uow, invitation.id)
        uow.record(EventKind.CONFIRMATION_ASKED, actor=actor, via=_via(via), customer=invitation.customer,
                   supplier=invitation.supplier, invitation=invitation, intent=intent, accept=accept_codes,
                   decline=decline_codes, excerpt=_excerpt(text))
        uow.enqueue(channel="email", kind="answer_confirm", recipient=invitation.email, lang=lang,
                    invitation=invitation, intent=intent, accept=accept_codes, decline=decline_codes, **payload)
        uow.commit()


_LATEST_CONFIRMATION = (
    select(Event).where(Event.invitation_id == bindparam("invitation_id"),
                        Event.kind.in_((EventKind.CONFIRMATION_ASKED, EventKind.CONFIRMATION_ANSWERED)))
    .order_by(Event.id.desc()).limit(1))


_WITH_CONFIRMATIONS = (select(Event.invitation_id).distinct().where(
    Event.invitation_id.in_(bindparam("ids", expanding=True)),
    Event.kind.in_((EventKind.CONFIRMATION_ASKED, EventKind.CONFIRMATION_ANSWERED))))
# the invitations of this transaction known to have had no confirmation question (yet)
_CONFIRMATION_FREE = "tautan_confirmation_free"


def load_confirmations(uow: UnitOfWork, *, invitation_ids: Sequence[int]) -> None:
    """Inside an open unit of work about to read several replies (stored messages processed
    together): which of these invitations never had a confirmation question, with one
    statement, so that ``pending_confirmation`` needs no query for them. Asking or answering
    one in this transaction takes its invitation off that list again."""
    if not invitation_ids:
        return
    with uow.reading():
        having = set(uow.session.scalars(_WITH_CONFIRMATIONS, {"ids": sorted(set(invitation_ids))}))
        uow.session.info.setdefault(_CONFIRMATION_FREE, set()).update(set(invitation_ids) - having)


def _confirmation_changes(uow: UnitOfWork, invitation_id: int) -> None:
    uow.session.info.get(_CONFIRMATION_FREE, set()).discard(invitation_id)


def pending_confirmation(uow: UnitOfWork, *, reply_token: str) -> PendingConfirmation | None:
    """The invitation's latest confirmation question, unless the supplier already answered it."""
    with uow.reading():
        invitation = _invitation(uow.session, None, reply_token)
        if invitation.id in uow.session.info.get(_CONFIRMATION_FREE, ()):
            return None
        latest = uow.session.scalars(_LATEST_CONFIRMATION, {"invitation_id": invitation.id}).first()
        if latest is None or latest.kind != EventKind.CONFIRMATION_ASKED:
            return None
        details = latest.details or {}
        return PendingConfirmation(latest.id, str(details.get("intent")), tuple(details.get("accept") or ()),
                                   tuple(details.get("decline") or ()))


def answer_confirmation(uow: UnitOfWork, *, reply_token: str, confirmed: bool, text: str, actor: str,
                        via: str) -> None:
    """Close the pending confirmation question: confirmed (the caller has acted) or refused."""
    with uow:
        invitation = _invitation(uow.session, None, reply_token)
        _confirmation_changes(uow, invitation.id)
        uow.record(EventKind.CONFIRMATION_ANSWERED, actor=actor, via=_via(via), customer=invitation.customer,
                   supplier=invitation.supplier, invitation=invitation, confirmed=confirmed, excerpt=_excerpt(text))
        uow.commit()
