"""Use cases of an invitation: inviting, answering, sending again, reminders, bounces, renewal,
unsubscribing and expiry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select

from tautan.core.errors import (
    AlreadyConnected,
    AlreadyRequested,
    ConcurrentChange,
    InvalidInput,
    InvitationClosed,
    InvitationExpired,
    Suppressed,
    TautanError,
)
from tautan.core.events import EVENT_OF_ACTION, Channel
from tautan.core.i18n import N_
from tautan.core.model import (
    Base,
    Company,
    Connection,
    DocumentType,
    Event,
    Invitation,
    InvitationStatus,
    MemberRole,
    Membership,
    Outbox,
    OutboxStatus,
    Person,
    Role,
    Status,
    Suppression,
    search_key,
    slugify,
)
from tautan.core.services._base import (
    INVITATION_TTL,
    REMINDERS,
    RENEWAL_REQUEST_INTERVAL,
    REQUEST_TTL,
    CompanyRef,
    _clean_message,
    _clean_name,
    _company,
    _document_types,
    _guess_locale,
    _invitation,
    _load_by_tokens,
    _locale,
    _move,
    _sendable_email,
    _supplier_for,
    _suppressed,
    _type_codes,
    _unique_slug,
    _verify_domain,
    _via,
    new_reply_token,
    normalize_email,
)
from tautan.core.services.identity import onboarding_of
from tautan.core.services.news import tell_supplier
from tautan.core.transitions import Action, Side, transition
from tautan.core.uow import UnitOfWork
from tautan.core.views import (
    INVITATION_STATUS_LABELS,
    InvitationView,
    invitation_view,
)


def invite(uow: UnitOfWork, *, customer: CompanyRef, email: str, types: Sequence[str], actor: str,
           via: str, unit: str | None = None, lang: str | None = None, message: str | None = None,
           supplier_name: str | None = None, ttl: dt.timedelta = INVITATION_TTL,
           inviter_name: str | None = None, inviter_email: str | None = None) -> InvitationView:
    """Invite a supplier contact to connect for one or more document types.

    ``inviter_name`` and ``inviter_email`` are how the supplier sees and reaches the person who
    invited (the actor id is never shown to them); without them the email names the customer only.

    Inviting again while an invitation to that supplier is live returns the live invitation (with
    any new types added to it) instead of a second one; inviting a supplier already connected for
    a type is a user error.
    """
    email = _sendable_email(normalize_email(email))
    type_codes = _type_codes(types)
    message = _clean_message(message)
    with uow:
        session, now = uow.session, uow.now()
        inviting = _company(session, customer, unit=unit)
        if not inviting.is_customer:
            raise InvalidInput(N_("{name} is not a customer company."), name=inviting.display_name)
        document_types = _document_types(session, type_codes)
        if _suppressed(session, email, inviting.root):
            raise Suppressed(email=email, customer=inviting.root.name)
        supplier, person = _supplier_for(uow, email, supplier_name)
        if supplier.id == inviting.root.id:
            raise InvalidInput(N_("A company cannot invite itself."))
        lang = _locale(lang) if lang else (person.locale or _guess_locale(email))

        connections = {c.type_id: c for c in session.scalars(
            select(Connection).where(Connection.customer_id == inviting.id,
                                     Connection.supplier_id == supplier.id,
                                     Connection.type_id.in_([t.id for t in document_types]))
            .with_for_update())}
        connected = [t.code for t in document_types
                     if t.id in connections and connections[t.id].status == Status.CONNECTED]
        if connected:
            raise AlreadyConnected(supplier=supplier.name, customer=inviting.display_name,
                                   types=connected)
        requested = [t.code for t in document_types
                     if t.id in connections and connections[t.id].status == Status.REQUESTED]
        if requested:
            raise AlreadyRequested(supplier=supplier.name, types=requested)

        for existing in connections.values():
            if (existing.status == Status.INVITED and existing.invitation is not None
                    and not existing.invitation.is_live(now)):
                _expire_invitation(uow, existing.invitation, actor="system", via="system")

        live = session.scalars(
            select(Invitation).where(Invitation.customer_id == inviting.id,
                                     Invitation.supplier_id == supplier.id,
                                     Invitation.status == InvitationStatus.PENDING,
                                     Invitation.expires_at > now)
            .order_by(Invitation.id).limit(1)).first()
        created = live is None
        invitation = live or Invitation(
            customer=inviting, supplier=supplier, email=email, lang=lang, message=message,
            inviter=actor, inviter_name=_one_line(inviter_name),
            inviter_email=normalize_email(inviter_email) if inviter_email else None,
            reply_token=new_reply_token(), status=InvitationStatus.PENDING,
            created_at=now, invited_at=now, expires_at=now + ttl, reminders_sent=0)
        session.add(invitation)

        added = []
        for document_type in document_types:
            connection = connections.get(document_type.id)
            if connection is not None and connection.invitation is invitation:
                continue
            current = connection.status if connection is not None else None
            status = transition(Action.INVITE, current, Side.CUSTOMER)
            if connection is None:
                connection = Connection(customer=inviting, supplier=supplier, document_type=document_type,
                                        created_at=now)
                session.add(connection)
            _move(uow, connection, status, Action.INVITE, actor=actor, via=via, invitation=invitation,
                  previous=current)
            added.append(document_type.code)
        if added:  # a new invitation, or new types on the live one: the supplier hears of it
            uow.enqueue(channel="email", kind="invitation", recipient=invitation.email, lang=invitation.lang,
                    invitation=invitation)
        session.flush()
        session.refresh(invitation, ["connections"])
        view = invitation_view(invitation, created=created, added_types=tuple(added))
        uow.commit()
    return view


def accept(uow: UnitOfWork, *, actor: str, via: str, invitation_id: int | None = None,
           reply_token: str | None = None) -> InvitationView:
    """The supplier accepts: every invited connection of the invitation becomes connected."""
    return _answer(uow, Action.ACCEPT, InvitationStatus.ACCEPTED, actor=actor, via=via,
                   invitation_id=invitation_id, reply_token=reply_token)


def decline(uow: UnitOfWork, *, actor: str, via: str, invitation_id: int | None = None,
            reply_token: str | None = None) -> InvitationView:
    """The supplier declines: every invited connection of the invitation becomes rejected."""
    return _answer(uow, Action.DECLINE, InvitationStatus.DECLINED, actor=actor, via=via,
                   invitation_id=invitation_id, reply_token=reply_token)


def answer_types(uow: UnitOfWork, *, reply_token: str, accept: Sequence[str], decline: Sequence[str], actor: str,
                 via: str) -> InvitationView:
    """The supplier answers part of an invitation: the connections of the ``accept`` types become
    connected, those of the ``decline`` types rejected, the others stay invited. The invitation
    closes (accepted when any type was accepted, else declined) once no connection is left
    invited; the supplier gets the usual confirmation naming the types it answered."""
    accept_codes = set(_type_codes(accept)) if accept else set()
    decline_codes = set(_type_codes(decline)) if decline else set()
    if accept_codes & decline_codes:
        raise InvalidInput(N_("A document type cannot be accepted and declined at once."))
    with uow:
        session, now = uow.session, uow.now()
        invitation = _invitation(session, None, reply_token, lock=True)
        if invitation.status not in (InvitationStatus.PENDING, InvitationStatus.UNDELIVERABLE):
            raise InvitationClosed(status=INVITATION_STATUS_LABELS[InvitationStatus(invitation.status)])
        if now >= invitation.expires_at:
            raise InvitationExpired(expired_at=invitation.expires_at)
        answered: dict[str, list[str]] = {"accepted": [], "declined": []}
        for connection in invitation.connections:
            code = connection.document_type.code
            if connection.status != Status.INVITED or code not in accept_codes | decline_codes:
                continue
            action = Action.ACCEPT if code in accept_codes else Action.DECLINE
            _move(uow, connection, transition(action, connection.status, Side.SUPPLIER), action, actor=actor,
                  via=via, invitation=invitation, previous=connection.status)
            answered["accepted" if action == Action.ACCEPT else "declined"].append(code)
        if not answered["accepted"] and not answered["declined"]:
            raise InvalidInput(N_("The invitation has no open connection of those document types."))
        if all(c.status != Status.INVITED for c in invitation.connections):
            connected = any(c.status == Status.CONNECTED for c in invitation.connections)
            invitation.status = InvitationStatus.ACCEPTED if connected else InvitationStatus.DECLINED
            invitation.closed_at = now
        for kind, codes in answered.items():
            if codes:
                uow.enqueue(channel="email", kind=kind, recipient=invitation.email, lang=invitation.lang,
                            invitation=invitation, types=sorted(codes))
        session.flush()
        view = invitation_view(invitation)
        uow.commit()
    return view


def cancel(uow: UnitOfWork, *, invitation_id: int, actor: str, via: str) -> InvitationView:
    """The customer withdraws an invitation that has not been answered."""
    return _answer(uow, Action.CANCEL, InvitationStatus.CANCELLED, actor=actor, via=via,
                   invitation_id=invitation_id, reply_token=None, side=Side.CUSTOMER)


def get_invitation(uow: UnitOfWork, *, invitation_id: int | None = None,
                   reply_token: str | None = None) -> InvitationView:
    with uow.reading():
        return invitation_view(_invitation(uow.session, invitation_id, reply_token))


def load_invitations(uow: UnitOfWork, *, reply_tokens: Sequence[str]) -> list[int]:
    """Inside an open unit of work that will act on several replies (processing stored messages
    together): their invitations loaded and locked with one statement, so that each service
    called about one of them finds it without another query. Returns the ids of those found."""
    if not reply_tokens:
        return []
    with uow.checked_first():
        found = _load_by_tokens(uow.session, reply_tokens)
        uow.commit()
    return found


def reply_token_known(uow: UnitOfWork, *, reply_token: str) -> bool:
    """Whether an invitation has this reply token: the SMTP server refuses mail for unknown ones."""
    return reply_token in reply_tokens_known(uow, reply_tokens=[reply_token])


def reply_tokens_known(uow: UnitOfWork, *, reply_tokens: Sequence[str]) -> set[str]:
    """Which of these reply tokens are an invitation's, in one statement (the SMTP server checks
    the recipients of several sessions at once)."""
    if not reply_tokens:
        return set()
    found = uow.execute_alone(select(Invitation.reply_token).where(Invitation.reply_token.in_(set(reply_tokens))))
    return {str(row[0]) for row in found}


def _answer(uow: UnitOfWork, action: Action, outcome: InvitationStatus, *, actor: str, via: str,
            invitation_id: int | None, reply_token: str | None, side: Side = Side.SUPPLIER) -> InvitationView:
    # Every check comes before the first change (so inside a larger unit of work, processing a
    # reply, it needs no savepoint: when it fails there is nothing of it to undo).
    with uow.checked_first():
        session, now = uow.session, uow.now()
        invitation = _invitation(session, invitation_id, reply_token, lock=True)
        # An invitation a bounce marked undeliverable can still be answered: it evidently arrived
        # somewhere (a forward, a second mailbox).
        if invitation.status not in (InvitationStatus.PENDING, InvitationStatus.UNDELIVERABLE):
            raise InvitationClosed(status=INVITATION_STATUS_LABELS[InvitationStatus(invitation.status)])
        if now >= invitation.expires_at:
            raise InvitationExpired(expired_at=invitation.expires_at)
        moves = [(connection, transition(action, connection.status, side)) for connection in invitation.connections]
        # What an acceptance looks up comes next, before the changes, and without flushing what
        # the unit of work holds (no pending change bears on an admin's address, and a verified
        # domain is written at once, by ``_verify_domain``), so that everything is written
        # together, once. An acceptance says how to send
        # each document from now on, as the customer has it today; the invitation's token reached
        # this mailbox, so its domain is the supplier's.
        extra: dict[str, object] = {}
        if action == Action.ACCEPT:
            with session.no_autoflush:
                extra["onboarding"] = onboarding_of(invitation.customer, invitation.type_codes)
                _verify_domain(session, invitation.supplier, invitation.email)
        for connection, status in moves:
            _move(uow, connection, status, action, actor=actor, via=via, invitation=invitation,
                  previous=connection.status)
        invitation.status = outcome
        invitation.closed_at = now
        if action is Action.CANCEL:  # the supplier hears that the invitation was withdrawn
            tell_supplier(uow, invitation.connections, "cancelled")
        if action in (Action.ACCEPT, Action.DECLINE):  # the supplier gets a confirmation
            uow.enqueue(channel="email", kind=outcome.value, recipient=invitation.email, lang=invitation.lang,
                        invitation=invitation, **extra)
        # written with the unit of work's next flush: on its own at its commit; processing
        # several replies together, once for all of them
        view = invitation_view(invitation)
        uow.commit()
    return view


def resend(uow: UnitOfWork, *, invitation_id: int, actor: str, via: str,
           ttl: dt.timedelta = INVITATION_TTL) -> InvitationView:
    """Send an invitation again, with the same tokens. An undeliverable one is tried again; an
    expired one is reopened (its connections invited again, a new expiry date)."""
    with uow:
        session, now = uow.session, uow.now()
        invitation = _invitation(session, invitation_id, None, lock=True)
        if invitation.status in (InvitationStatus.ACCEPTED, InvitationStatus.DECLINED, InvitationStatus.CANCELLED):
            raise InvitationClosed(status=INVITATION_STATUS_LABELS[InvitationStatus(invitation.status)])
        if _suppressed(session, invitation.email, invitation.customer.root):
            raise Suppressed(email=invitation.email, customer=invitation.customer.root.name)
        if invitation.status == InvitationStatus.PENDING and now >= invitation.expires_at:
            _expire_invitation(uow, invitation, actor="system", via="system")
        if invitation.status == InvitationStatus.EXPIRED:
            reopened = [c for c in invitation.connections
                        if c.invitation_id == invitation.id and c.status == Status.EXPIRED]
            if not reopened:
                raise InvitationClosed(status=INVITATION_STATUS_LABELS[InvitationStatus.EXPIRED])
            for connection in reopened:
                status = transition(Action.INVITE, connection.status, Side.CUSTOMER)
                _move(uow, connection, status, Action.INVITE, actor=actor, via=via, invitation=invitation,
                      previous=connection.status)
            invitation.invited_at = now
            invitation.expires_at = now + ttl
            invitation.reminders_sent = 0
        invitation.status = InvitationStatus.PENDING
        invitation.closed_at = None
        uow.enqueue(channel="email", kind="invitation", recipient=invitation.email, lang=invitation.lang,
                invitation=invitation, resent=True)
        uow.record("resent", actor=actor, via=_via(via), customer=invitation.customer,
                   supplier=invitation.supplier, invitation=invitation)
        session.flush()
        view = invitation_view(invitation)
        uow.commit()
    return view


def remind(uow: UnitOfWork, *, schedule: Sequence[dt.timedelta] = REMINDERS, limit: int = 500) -> list[int]:
    """Queue the reminders that are due (by default 3, 7 and 14 days after the invitation, at most
    three); returns the ids of the invitations reminded. Run by the worker."""
    if not schedule:
        return []
    with uow:
        session, now = uow.session, uow.now()
        candidates = session.scalars(
            select(Invitation).where(Invitation.status == InvitationStatus.PENDING,
                                     Invitation.reminders_sent < len(schedule),
                                     Invitation.invited_at <= now - min(schedule),
                                     Invitation.expires_at > now)
            .order_by(Invitation.id).limit(limit).with_for_update(skip_locked=True))
        reminded = []
        for invitation in candidates:
            if now < invitation.invited_at + schedule[invitation.reminders_sent]:
                continue
            invitation.reminders_sent += 1
            if _suppressed(session, invitation.email, invitation.customer.root):
                continue
            uow.enqueue(channel="email", kind="reminder", recipient=invitation.email, lang=invitation.lang,
                    invitation=invitation, number=invitation.reminders_sent)
            uow.record("reminded", actor="system", via="system", customer=invitation.customer,
                       supplier=invitation.supplier, invitation=invitation, number=invitation.reminders_sent)
            reminded.append(invitation.id)
        uow.commit()
    return reminded


def mark_undeliverable(uow: UnitOfWork, *, reason: str, actor: str, via: str, invitation_id: int | None = None,
                       reply_token: str | None = None) -> bool:
    """A bounce: the invitation could not be delivered. Returns False when nothing changed (a
    duplicate bounce, or a late one for an invitation already answered)."""
    with uow:
        invitation = _invitation(uow.session, invitation_id, reply_token, lock=True)
        changed = record_undeliverable(uow, invitation, reason=reason, actor=actor, via=via)
        uow.commit()
    return changed


def record_undeliverable(uow: UnitOfWork, invitation: Invitation, *, reason: str, actor: str, via: str) -> bool:
    if invitation.status != InvitationStatus.PENDING:
        return False
    invitation.status = InvitationStatus.UNDELIVERABLE
    uow.record("bounced", actor=actor, via=_via(via), customer=invitation.customer, supplier=invitation.supplier,
               invitation=invitation, reason=reason, email=invitation.email)
    return True


def request_renewal(uow: UnitOfWork, *, invitation_id: int, actor: str, via: str) -> bool:
    """The supplier found an expired invitation and asks for a new one; the customer's admins hear
    of it. Asking again within a day records nothing new (returns False)."""
    with uow:
        session, now = uow.session, uow.now()
        invitation = _invitation(session, invitation_id, None, lock=True)
        expired = invitation.status == InvitationStatus.EXPIRED or (
            invitation.status == InvitationStatus.PENDING and now >= invitation.expires_at)
        if not expired:
            raise InvalidInput(N_("Only an expired invitation can be renewed."))
        recent = session.scalars(select(Event.id).where(
            Event.invitation_id == invitation.id, Event.kind == "renewal_requested",
            Event.at > now - RENEWAL_REQUEST_INTERVAL).limit(1)).first()
        if recent is None:
            uow.record("renewal_requested", actor=actor, via=_via(via), customer=invitation.customer,
                       supplier=invitation.supplier, invitation=invitation, email=invitation.email)
        uow.commit()
    return recent is None


def unsubscribe(uow: UnitOfWork, *, invitation_id: int, actor: str, via: str) -> bool:
    """The invited address wants no more invitations from this customer (List-Unsubscribe).
    Returns False when it had already asked."""
    with uow:
        session = uow.session
        invitation = _invitation(session, invitation_id, None, lock=True)
        customer = invitation.customer.root
        if _suppressed(session, invitation.email, customer):
            return False
        session.add(Suppression(email=invitation.email, customer_id=customer.id, created_at=uow.now()))
        uow.record("unsubscribed", actor=actor, via=_via(via), customer=invitation.customer,
                   supplier=invitation.supplier, invitation=invitation, email=invitation.email)
        uow.commit()
    return True


def expire(uow: UnitOfWork, *, actor: str = "system", via: str = "system",
           request_ttl: dt.timedelta = REQUEST_TTL, limit: int = 500) -> list[int]:
    """Expire invitations past their date and supplier requests left unanswered too long.

    Returns the ids of the connections that expired. Run by the worker with the injected clock.
    """
    with uow:
        session, now = uow.session, uow.now()
        expired: list[int] = []
        due = session.scalars(
            select(Invitation).where(Invitation.status == InvitationStatus.PENDING,
                                     Invitation.expires_at <= now)
            .order_by(Invitation.id).limit(limit).with_for_update(skip_locked=True))
        for invitation in due:
            expired += _expire_invitation(uow, invitation, actor=actor, via=via)
        stale = session.scalars(
            select(Connection).where(Connection.status == Status.REQUESTED,
                                     Connection.updated_at <= now - request_ttl)
            .order_by(Connection.id).limit(limit).with_for_update(skip_locked=True))
        for connection in stale:
            status = transition(Action.EXPIRE, connection.status, Side.SYSTEM)
            _move(uow, connection, status, Action.EXPIRE, actor=actor, via=via, previous=connection.status)
            expired.append(connection.id)
        uow.commit()
    return expired


def _expire_invitation(uow: UnitOfWork, invitation: Invitation, *, actor: str, via: str) -> list[int]:
    changed = []
    for connection in invitation.connections:
        if connection.status == Status.INVITED and connection.invitation_id == invitation.id:
            status = transition(Action.EXPIRE, connection.status, Side.SYSTEM)
            _move(uow, connection, status, Action.EXPIRE, actor=actor, via=via, invitation=invitation,
                  previous=connection.status)
            changed.append(connection.id)
    invitation.status = InvitationStatus.EXPIRED
    invitation.closed_at = uow.now()
    return changed


def _one_line(name: str | None) -> str | None:
    """A person's name as it may appear in an email: one line, at most 200 characters, or none."""
    cleaned = " ".join((name or "").split())[:200]
    return cleaned or None


@dataclass(frozen=True)
class InviteRow:
    """One invitation to make in ``invite_many``: what ``invite`` takes for one supplier contact."""

    email: str
    types: Sequence[str] | str
    lang: str | None = None
    message: str | None = None
    supplier_name: str | None = None


@dataclass(frozen=True)
class Invited:
    """The result of one row of ``invite_many``: the invitation, or the user error that stopped it."""

    email: str
    invitation_id: int | None = None
    # a new invitation, or new types on a live one (False: the live invitation already had them)
    invited: bool = False
    error: TautanError | None = None


def invite_many(uow: UnitOfWork, *, customer: CompanyRef, rows: Sequence[InviteRow], actor: str, via: str,
                unit: str | None = None, ttl: dt.timedelta = INVITATION_TTL, chunk: int = 1000,
                progress: Callable[[int], None] | None = None) -> list[Invited]:
    """Invite many supplier contacts at once (an import): the same rules as ``invite``, one result
    per row, in order; a bad row is reported and the others go through.

    Rows are handled ``chunk`` at a time, one transaction each. The references (the customer, the
    document types, which addresses, suppliers and suppressions exist already) are looked up once
    per chunk; a row about someone new is inserted in bulk with the others, a row that touches
    what exists (a known contact or supplier, a second row for the same address) goes through
    ``invite`` itself, inside a savepoint. ``progress`` is called with the number of rows done."""
    results: list[Invited] = []
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        try:
            with uow:
                done = _invite_chunk(uow, part, customer=customer, unit=unit, actor=actor, via=via, ttl=ttl)
                uow.commit()
        except ConcurrentChange:  # someone else changed the same rows meanwhile: one by one, as invite would
            done = [_invite_one(uow, row, customer=customer, unit=unit, actor=actor, via=via, ttl=ttl)
                    for row in part]
        results += done
        if progress is not None:
            progress(len(part))
    return results


def _invite_one(uow: UnitOfWork, row: InviteRow, *, customer: CompanyRef, unit: str | None, actor: str,
                via: str, ttl: dt.timedelta) -> Invited:
    try:
        view = invite(uow, customer=customer, unit=unit, email=row.email, types=row.types, lang=row.lang,
                      message=row.message, supplier_name=row.supplier_name, actor=actor, via=via, ttl=ttl)
    except TautanError as error:
        return Invited(email=row.email, error=error)
    return Invited(email=view.email, invitation_id=view.id, invited=view.created or bool(view.added_types))


@dataclass
class _New:
    """A row about someone new, checked and waiting to be inserted with the others."""

    position: int
    email: str
    name: str
    slug: str
    lang: str
    message: str | None
    types: list[DocumentType]


def _invite_chunk(uow: UnitOfWork, rows: Sequence[InviteRow], *, customer: CompanyRef, unit: str | None,
                  actor: str, via: str, ttl: dt.timedelta) -> list[Invited]:
    session = uow.session
    try:
        inviting = _company(session, customer, unit=unit)
        if not inviting.is_customer:
            raise InvalidInput(N_("{name} is not a customer company."), name=inviting.display_name)
    except TautanError as error:  # the same answer for every row, as invite would give
        return [Invited(email=row.email, error=error) for row in rows]
    _via(via)
    known_types = {t.code: t for t in session.scalars(select(DocumentType))}

    checked: list[tuple[str, list[str], str | None, str | None, str | None] | TautanError] = []
    for row in rows:
        try:
            name = _clean_name(row.supplier_name) if row.supplier_name else None
            checked.append((normalize_email(row.email), _type_codes(row.types), _clean_message(row.message),
                            _locale(row.lang) if row.lang else None, name))
        except TautanError as error:
            checked.append(error)
    emails = [c[0] for c in checked if not isinstance(c, TautanError)]
    names = [search_key(c[4] or c[0]) for c in checked if not isinstance(c, TautanError)]
    known_people = set(session.scalars(select(Person.email).where(Person.email.in_(emails))))
    known_names = set(session.scalars(select(Company.name_key).where(
        Company.parent_key == 0, Company.name_key.in_(names))))
    suppressed = set(session.scalars(select(Suppression.email).where(
        Suppression.customer_id == inviting.root.id, Suppression.email.in_(emails))))
    bases = {slugify(c[4] or c[0]) for c in checked if not isinstance(c, TautanError)}
    taken_slugs = set(session.scalars(select(Company.slug).where(Company.slug.in_(bases))))

    results: list[Invited | None] = [None] * len(rows)
    pending: list[_New] = []
    seen: set[str] = set()
    for position, (row, check) in enumerate(zip(rows, checked, strict=False)):
        if isinstance(check, TautanError):
            results[position] = Invited(email=row.email, error=check)
            continue
        email, codes, message, lang, supplier_name = check
        name = supplier_name or email
        key = search_key(name)
        if (email in known_people or key in known_names or email in suppressed or email in seen or key in seen
                or any(code not in known_types for code in codes)):
            # someone we know, or a second row for the same one: invite decides, after the rows before
            _insert_new(uow, inviting, pending, results, actor=actor, via=via, ttl=ttl)
            pending = []
            results[position] = _invite_one(uow, row, customer=inviting.id, unit=None, actor=actor, via=via,
                                            ttl=ttl)
        else:
            slug = slugify(name)
            if slug in taken_slugs:
                slug = _unique_slug(session, slug, also_taken=taken_slugs)
            taken_slugs.add(slug)
            pending.append(_New(position=position, email=email, name=name, slug=slug,
                                lang=lang or _guess_locale(email), message=message,
                                types=[known_types[c] for c in codes]))
        seen.update((email, key))
    _insert_new(uow, inviting, pending, results, actor=actor, via=via, ttl=ttl)
    return [r for r in results if r is not None]


def _insert_new(uow: UnitOfWork, inviting: Company, rows: list[_New], results: list[Invited | None], *,
                actor: str, via: str, ttl: dt.timedelta) -> None:
    """What ``invite`` writes for a new contact at a new supplier, for many rows: one INSERT per
    table (person, supplier, membership, invitation, connections, events, outbox)."""
    if not rows:
        return
    session, now = uow.session, uow.now()
    session.flush()

    def insert_all(table: Any, values: list[dict[str, Any]]) -> list[int]:
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(session.scalars(statement, values))

    people = insert_all(Person.__table__, [{"email": r.email, "name": None, "locale": None, "created_at": now}
                                           for r in rows])
    suppliers = insert_all(Company.__table__, [
        {"name": r.name, "name_key": search_key(r.name), "search_name": search_key(r.name), "parent_key": 0,
         "parent_id": None, "role": Role.SUPPLIER, "slug": r.slug, "locale": _guess_locale(r.email),
         "created_at": now} for r in rows])
    session.execute(insert(_table(Membership)), [
        {"company_id": company, "person_id": person, "role": MemberRole.CONTACT}
        for company, person in zip(suppliers, people, strict=False)])
    invitations = insert_all(Invitation.__table__, [
        {"customer_id": inviting.id, "supplier_id": supplier, "email": r.email, "lang": r.lang,
         "message": r.message, "inviter": actor, "reply_token": new_reply_token(),
         "status": InvitationStatus.PENDING, "created_at": now, "invited_at": now, "expires_at": now + ttl,
         "closed_at": None, "reminders_sent": 0, "last_sent_at": None, "version": 1}
        for r, supplier in zip(rows, suppliers, strict=False)])
    status = transition(Action.INVITE, None, Side.CUSTOMER)
    pairs = [(r, supplier, invitation, document_type)
             for r, supplier, invitation in zip(rows, suppliers, invitations, strict=False)
             for document_type in r.types]
    connections = insert_all(Connection.__table__, [
        {"customer_id": inviting.id, "supplier_id": supplier, "type_id": document_type.id, "status": status,
         "invitation_id": invitation, "created_at": now, "updated_at": now, "version": 1}
        for _, supplier, invitation, document_type in pairs])
    session.execute(insert(_table(Event)), [
        {"kind": EVENT_OF_ACTION[Action.INVITE], "actor": actor, "via": _via(via), "at": now,
         "customer_id": inviting.id, "supplier_id": supplier, "connection_id": connection,
         "invitation_id": invitation, "details": {"type": document_type.code, "previous": None, "status": status}}
        for (_, supplier, invitation, document_type), connection in zip(pairs, connections, strict=False)])
    session.execute(insert(_table(Outbox)), [
        {"channel": Channel.EMAIL, "kind": "invitation", "recipient": r.email, "lang": r.lang,
         "invitation_id": invitation, "payload": {}, "status": OutboxStatus.PENDING, "attempts": 0,
         "created_at": now, "next_attempt_at": now} for r, invitation in zip(rows, invitations, strict=False)])
    for r, invitation in zip(rows, invitations, strict=False):
        results[r.position] = Invited(email=r.email, invitation_id=invitation, invited=True)


def _table(model: type[Base]) -> Table:
    """A model's table, typed as one (``__table__`` is declared as a ``FromClause``)."""
    return cast(Table, model.__table__)
