"""One function per use case. Every driver (CLI, email, links, Slack) calls these the same way,
naming the actor (``slack:T1/U2``, ``email:ana@pt-maju.co.id``, ``cli:operator``, ``system``) and
the channel (``via``). Each runs in one unit of work and writes its events in the same commit; each
returns plain views (``core.views``) so the adapter has what it needs to answer after the session
is closed.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import ColumnElement, func, or_, select, union_all
from sqlalchemy.orm import Session, aliased, selectinload

from tautan.core.errors import (
    AlreadyConnected,
    AlreadyRequested,
    InvalidInput,
    InvitationClosed,
    InvitationExpired,
    NotFound,
    Suppressed,
)
from tautan.core.i18n import N_, SUPPORTED_LOCALES, normalize_locale
from tautan.core.model import (
    Company,
    Connection,
    DocumentType,
    Event,
    Invitation,
    InvitationStatus,
    Membership,
    MemberRole,
    Person,
    Role,
    Status,
    Suppression,
    search_key,
    slugify,
)
from tautan.core.transitions import Action, Side, transition
from tautan.core.uow import UnitOfWork
from tautan.core.views import (
    INVITATION_STATUS_LABELS,
    CompanyView,
    ConnectionView,
    EventView,
    InvitationView,
    Page,
    company_view,
    connection_view,
    event_view,
    invitation_view,
)

VIAS = ("cli", "slack", "email", "link", "system")
INVITATION_TTL = dt.timedelta(days=30)
REQUEST_TTL = dt.timedelta(days=30)
REMINDERS = tuple(dt.timedelta(days=d) for d in (3, 7, 14))
RENEWAL_REQUEST_INTERVAL = dt.timedelta(hours=24)
MAX_PER_PAGE = 200
MAX_MESSAGE_LENGTH = 2000
MAX_NAME_LENGTH = 200

CompanyRef = int | str


# --- companies -------------------------------------------------------------------------------

def create_company(uow: UnitOfWork, *, name: str, actor: str, via: str,
                   roles: Iterable[Role | str] = (Role.CUSTOMER,), parent: CompanyRef | None = None,
                   locale: str | None = None) -> CompanyView:
    """Create a company, or a unit of one when ``parent`` is given (a unit takes its parent's role)."""
    name = _clean_name(name)
    with uow:
        session = uow.session
        parent_company = _company(session, parent) if parent is not None else None
        if parent_company is not None:
            if parent_company.parent_id is not None:
                raise InvalidInput(N_("A unit cannot have units of its own."))
            role = Role(parent_company.role)
        else:
            role = _role(roles)
        if _sibling(session, name, parent_company) is not None:
            raise InvalidInput(N_("A company named {name} already exists."), name=name)
        company = Company(role=role, parent=parent_company, parent_key=parent_company.id if parent_company else 0,
                          locale=_locale(locale) if locale else (parent_company.locale if parent_company else "en"),
                          created_at=uow.now(),
                          slug=_unique_slug(session, f"{parent_company.slug}-{slugify(name)}" if parent_company
                                            else slugify(name)))
        company.set_name(name)
        session.add(company)
        uow.record("unit_created" if parent_company else "company_created", actor=actor, via=_via(via),
                   customer=company if company.is_customer else None,
                   supplier=company if not company.is_customer else None, name=name)
        uow.session.flush()
        view = company_view(company)
        uow.commit()
    return view


def set_company_locale(uow: UnitOfWork, *, company_id: int, locale: str, actor: str, via: str) -> CompanyView:
    """The language a company's team reads notices in (its units follow it)."""
    locale = _locale(locale)
    with uow:
        company = _company(uow.session, company_id)
        for each in (company, *company.units):
            each.locale = locale
        uow.record("company_language", actor=actor, via=_via(via), customer=company, locale=locale)
        uow.session.flush()
        view = company_view(company)
        uow.commit()
    return view


def get_company(uow: UnitOfWork, ref: CompanyRef, *, unit: str | None = None) -> CompanyView:
    with uow:
        return company_view(_company(uow.session, ref, unit=unit))


def get_company_by_slug(uow: UnitOfWork, slug: str) -> CompanyView:
    with uow:
        company = uow.session.scalars(select(Company).where(Company.slug == slug.lower())).first()
        if company is None or not company.is_customer:
            raise NotFound(N_("There is no company called {name}."), name=slug)
        return company_view(company)


# --- invitations -----------------------------------------------------------------------------

def invite(uow: UnitOfWork, *, customer: CompanyRef, email: str, types: Sequence[str], actor: str,
           via: str, unit: str | None = None, lang: str | None = None, message: str | None = None,
           supplier_name: str | None = None, ttl: dt.timedelta = INVITATION_TTL) -> InvitationView:
    """Invite a supplier contact to connect for one or more document types.

    Inviting again while an invitation to that supplier is live returns the live invitation (with
    any new types added to it) instead of a second one; inviting a supplier already connected for
    a type is a user error.
    """
    email = normalize_email(email)
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

        for connection in connections.values():
            if connection.status == Status.INVITED and not connection.invitation.is_live(now):
                _expire_invitation(uow, connection.invitation, actor="system", via="system")

        live = session.scalars(
            select(Invitation).where(Invitation.customer_id == inviting.id,
                                     Invitation.supplier_id == supplier.id,
                                     Invitation.status == InvitationStatus.PENDING,
                                     Invitation.expires_at > now)
            .order_by(Invitation.id).limit(1)).first()
        created = live is None
        invitation = live or Invitation(
            customer=inviting, supplier=supplier, email=email, lang=lang, message=message,
            inviter=actor, reply_token=new_reply_token(), status=InvitationStatus.PENDING,
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


def cancel(uow: UnitOfWork, *, invitation_id: int, actor: str, via: str) -> InvitationView:
    """The customer withdraws an invitation that has not been answered."""
    return _answer(uow, Action.CANCEL, InvitationStatus.CANCELLED, actor=actor, via=via,
                   invitation_id=invitation_id, reply_token=None, side=Side.CUSTOMER)


def get_invitation(uow: UnitOfWork, *, invitation_id: int | None = None,
                   reply_token: str | None = None) -> InvitationView:
    with uow:
        return invitation_view(_invitation(uow.session, invitation_id, reply_token))


def _answer(uow: UnitOfWork, action: Action, outcome: InvitationStatus, *, actor: str, via: str,
            invitation_id: int | None, reply_token: str | None, side: Side = Side.SUPPLIER) -> InvitationView:
    with uow:
        session, now = uow.session, uow.now()
        invitation = _invitation(session, invitation_id, reply_token, lock=True)
        # An invitation a bounce marked undeliverable can still be answered: it evidently arrived
        # somewhere (a forward, a second mailbox).
        if invitation.status not in (InvitationStatus.PENDING, InvitationStatus.UNDELIVERABLE):
            raise InvitationClosed(status=INVITATION_STATUS_LABELS[InvitationStatus(invitation.status)])
        if now >= invitation.expires_at:
            raise InvitationExpired(expired_at=invitation.expires_at)
        for connection in invitation.connections:
            status = transition(action, connection.status, side)
            _move(uow, connection, status, action, actor=actor, via=via, invitation=invitation,
                  previous=connection.status)
        invitation.status = outcome
        invitation.closed_at = now
        if action in (Action.ACCEPT, Action.DECLINE):  # the supplier gets a confirmation
            uow.enqueue(channel="email", kind=outcome.value, recipient=invitation.email, lang=invitation.lang,
                    invitation=invitation)
        session.flush()
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


def answer(uow: UnitOfWork, *, recipient: str, kind: str, lang: str, invitation_id: int | None = None,
           **payload: object) -> None:
    """Queue an answer to someone who wrote to us (an unclear reply, HELP, STATUS, a request)."""
    with uow:
        invitation = uow.session.get(Invitation, invitation_id) if invitation_id is not None else None
        uow.enqueue(channel="email", kind=kind, recipient=recipient, lang=lang, invitation=invitation, **payload)
        uow.commit()


def connections_of(uow: UnitOfWork, *, email: str, limit: int = 50) -> list[ConnectionView]:
    """The connections of the supplier companies an address belongs to (for STATUS by email):
    only its own, never anyone else's."""
    with uow:
        session = uow.session
        companies = select(Membership.company_id).join(Person, Person.id == Membership.person_id).where(
            Person.email == email.lower())
        rows = session.scalars(
            select(Connection).where(Connection.supplier_id.in_(companies))
            .options(selectinload(Connection.customer).selectinload(Company.parent),
                     selectinload(Connection.supplier), selectinload(Connection.document_type))
            .order_by(Connection.updated_at.desc(), Connection.id.desc()).limit(limit))
        return [connection_view(c) for c in rows]


def request_by_email(uow: UnitOfWork, *, email: str, customer: CompanyRef, types: Sequence[str], actor: str,
                     via: str, supplier_name: str | None = None) -> list[ConnectionView]:
    """A supplier contact, having confirmed its address, asks a customer to connect."""
    email = normalize_email(email)
    type_codes = _type_codes(types)
    with uow:
        target = _company(uow.session, customer)
        supplier, _person = _supplier_for(uow, email, supplier_name)
        views = _request(uow, supplier, target, type_codes, actor=actor, via=via)
        uow.commit()
    return views


def _suppressed(session: Session, email: str, customer: Company) -> bool:
    return session.scalars(select(Suppression.id).where(
        Suppression.email == email, Suppression.customer_id == customer.id).limit(1)).first() is not None


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


# --- supplier requests and connection-level actions ------------------------------------------

def request(uow: UnitOfWork, *, supplier: CompanyRef, customer: CompanyRef, types: Sequence[str],
            actor: str, via: str, unit: str | None = None) -> list[ConnectionView]:
    """A supplier asks a customer (or one of its units) to connect for some document types."""
    type_codes = _type_codes(types)
    with uow:
        asking = _company(uow.session, supplier)
        views = _request(uow, asking, _company(uow.session, customer, unit=unit), type_codes, actor=actor, via=via)
        uow.commit()
    return views


def _request(uow: UnitOfWork, asking: Company, target: Company, type_codes: Sequence[str], *, actor: str,
             via: str) -> list[ConnectionView]:
    session, now = uow.session, uow.now()
    if not asking.is_supplier:
        raise InvalidInput(N_("{name} is not a supplier company."), name=asking.name)
    if not target.is_customer:
        raise InvalidInput(N_("{name} is not a customer company."), name=target.display_name)
    if target.root.id == asking.id:
        raise InvalidInput(N_("A company cannot invite itself."))
    changed = []
    for document_type in _document_types(session, type_codes):
        connection = session.scalars(
            select(Connection).where(Connection.customer_id == target.id,
                                     Connection.supplier_id == asking.id,
                                     Connection.type_id == document_type.id)
            .with_for_update()).first()
        current = connection.status if connection is not None else None
        if current == Status.CONNECTED:
            raise AlreadyConnected(supplier=asking.name, customer=target.display_name,
                                   types=[document_type.code])
        status = transition(Action.REQUEST, current, Side.SUPPLIER)
        if connection is None:
            connection = Connection(customer=target, supplier=asking, document_type=document_type,
                                    created_at=now)
            session.add(connection)
        _move(uow, connection, status, Action.REQUEST, actor=actor, via=via, previous=current)
        changed.append(connection)
    session.flush()
    return [connection_view(c) for c in changed]


def approve(uow: UnitOfWork, *, connection_id: int, actor: str, via: str) -> ConnectionView:
    """The customer approves a supplier's request."""
    return _act(uow, Action.APPROVE, Side.CUSTOMER, connection_id=connection_id, actor=actor, via=via)


def deny(uow: UnitOfWork, *, connection_id: int, actor: str, via: str, reason: str | None = None) -> ConnectionView:
    """The customer denies a supplier's request; ``reason``, if given, is kept in the event."""
    return _act(uow, Action.DENY, Side.CUSTOMER, connection_id=connection_id, actor=actor, via=via, reason=reason)


def cancel_request(uow: UnitOfWork, *, connection_id: int, actor: str, via: str) -> ConnectionView:
    """The supplier withdraws its own request."""
    return _act(uow, Action.CANCEL, Side.SUPPLIER, connection_id=connection_id, actor=actor, via=via)


def disconnect(uow: UnitOfWork, *, connection_id: int, side: Side, actor: str, via: str,
               reason: str | None = None) -> ConnectionView:
    """Either side ends a connection; ``reason``, if given, is kept in the event."""
    return _act(uow, Action.DISCONNECT, side, connection_id=connection_id, actor=actor, via=via, reason=reason)


def _act(uow: UnitOfWork, action: Action, side: Side, *, connection_id: int, actor: str,
         via: str, reason: str | None = None) -> ConnectionView:
    with uow:
        session = uow.session
        connection = session.get(Connection, connection_id, with_for_update=True)
        if connection is None:
            raise NotFound(N_("There is no connection with id {id}."), id=connection_id)
        current = connection.status
        status = transition(action, current, side)
        _move(uow, connection, status, action, actor=actor, via=via, previous=current,
              reason=(reason or "").strip()[:MAX_MESSAGE_LENGTH] or None)
        session.flush()
        view = connection_view(connection)
        uow.commit()
    return view


def _move(uow: UnitOfWork, connection: Connection, status: str, action: Action, *, actor: str, via: str,
          previous: str | None, invitation: Invitation | None = None, reason: str | None = None) -> None:
    connection.status = status
    connection.updated_at = uow.now()
    if invitation is not None:
        connection.invitation = invitation
    uow.record(EVENT_KINDS[action], actor=actor, via=_via(via), customer=connection.customer,
               supplier=connection.supplier, connection=connection, invitation=invitation,
               type=connection.document_type.code, previous=previous, status=status,
               **({"reason": reason} if reason else {}))


EVENT_KINDS = {
    Action.INVITE: "invited",
    Action.REQUEST: "requested",
    Action.ACCEPT: "accepted",
    Action.APPROVE: "approved",
    Action.DECLINE: "declined",
    Action.DENY: "denied",
    Action.CANCEL: "cancelled",
    Action.EXPIRE: "expired",
    Action.DISCONNECT: "disconnected",
}


# --- reading ---------------------------------------------------------------------------------

def search(uow: UnitOfWork, *, company: CompanyRef | None = None, side: Side = Side.CUSTOMER,
           unit: str | None = None, partner: str | None = None, types: Sequence[str] = (),
           statuses: Sequence[str] = (), page: int = 1, per_page: int = 50) -> Page[ConnectionView]:
    """Connections seen from one company's side, filtered and paged in a stable order (newest
    change first, then id). ``company=None`` is the operator's view of every connection.

    ``partner`` matches the other side's name as a case-insensitive, Unicode-safe substring.
    """
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(N_("Page numbers start at 1 and a page holds 1 to {max} rows."), max=MAX_PER_PAGE)
    statuses = [_status(s) for s in statuses]
    type_codes = _type_codes(types) if types else []
    with uow:
        session = uow.session
        filters: list[ColumnElement[bool]] = []
        members: list[int] = []
        if company is not None:
            owner = _company(session, company, unit=unit if side is Side.CUSTOMER else None)
            if side is Side.CUSTOMER:
                members = [owner.id] if unit or owner.parent_id else [owner.id, *(u.id for u in owner.units)]
            else:
                filters.append(Connection.supplier_id == owner.id)
                if unit:
                    filters.append(Connection.customer_id.in_(
                        select(Company.id).where(Company.name_key == search_key(unit))))
        if statuses:
            filters.append(Connection.status.in_(statuses))
        if type_codes:
            filters.append(Connection.type_id.in_(
                select(DocumentType.id).where(DocumentType.code.in_(type_codes))))
        if partner and partner.strip():
            filters.append(_partner_filter(search_key(partner), side if company is not None else None))

        scope = [Connection.customer_id.in_(members)] if members else []
        total = session.scalar(select(func.count()).select_from(Connection).where(*scope, *filters)) or 0
        newest_first = (Connection.updated_at.desc(), Connection.id.desc())
        if len(members) > 1:
            # A customer with units: one ordered branch per company, merged. Each branch walks its
            # own index in order, instead of the database sorting every row of every unit.
            window = page * per_page
            branches = [select(Connection.id, Connection.updated_at)
                        .where(Connection.customer_id == member, *filters)
                        .order_by(*newest_first).limit(window).subquery() for member in members]
            merged = union_all(*(select(b.c.id, b.c.updated_at) for b in branches)).subquery()
            page_ids = (select(merged.c.id).order_by(merged.c.updated_at.desc(), merged.c.id.desc())
                        .limit(per_page).offset((page - 1) * per_page))
            listing = select(Connection).where(Connection.id.in_(page_ids))
        else:
            listing = (select(Connection).where(*scope, *filters)
                       .limit(per_page).offset((page - 1) * per_page))
        rows = session.scalars(
            listing.order_by(*newest_first)
            .options(selectinload(Connection.customer).selectinload(Company.parent),
                     selectinload(Connection.supplier), selectinload(Connection.document_type)))
        items = tuple(connection_view(c) for c in rows)
    return Page(items=items, total=total, page=page, per_page=per_page)


def _partner_filter(key: str, side: Side | None) -> ColumnElement[bool]:
    """The other side's name contains ``key`` (already case-folded). ``side=None``: either side."""
    pattern = "%" + _escape_like(key) + "%"
    if side is Side.SUPPLIER:  # the partner is the customer: a unit matches by its name or its parent's
        unit_company, parent = aliased(Company), aliased(Company)
        return Connection.customer_id.in_(
            select(unit_company.id).outerjoin(parent, unit_company.parent_id == parent.id)
            .where(or_(unit_company.search_name.like(pattern, escape="\\"),
                       parent.search_name.like(pattern, escape="\\"))))
    other = aliased(Company)
    named = select(other.id).where(other.search_name.like(pattern, escape="\\"))
    if side is Side.CUSTOMER:
        return Connection.supplier_id.in_(named)
    return or_(Connection.supplier_id.in_(named), Connection.customer_id.in_(named))


def history(uow: UnitOfWork, *, invitation_id: int | None = None,
            connection_id: int | None = None) -> list[EventView]:
    """The events of an invitation (all its connections) or of one connection, oldest first."""
    with uow:
        session = uow.session
        query = select(Event)
        if invitation_id is not None:
            _invitation(session, invitation_id, None)
            query = query.where(Event.invitation_id == invitation_id)
        elif connection_id is not None:
            if session.get(Connection, connection_id) is None:
                raise NotFound(N_("There is no connection with id {id}."), id=connection_id)
            query = query.where(Event.connection_id == connection_id)
        else:
            raise InvalidInput(N_("Say which invitation or connection."))
        return [event_view(e) for e in session.scalars(query.order_by(Event.at, Event.id))]


# --- helpers ---------------------------------------------------------------------------------

def normalize_email(email: str) -> str:
    """A valid address in the form it is stored and compared in (lower case), or ``InvalidInput``."""
    candidate = (email or "").strip()
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidInput(N_("{email} is not a valid email address."), email=candidate[:320]) from None
    return result.normalized.lower()


def new_reply_token() -> str:
    """32 lowercase hex characters: safe in the local part of an address, whatever the client does to case."""
    return secrets.token_hex(16)


def _company(session: Session, ref: CompanyRef, *, unit: str | None = None) -> Company:
    if isinstance(ref, int):
        company = session.get(Company, ref)
    else:
        company = _sibling(session, ref, None)
    if company is None:
        raise NotFound(N_("There is no company called {name}."), name=str(ref))
    if unit:
        found = _sibling(session, unit, company)
        if found is None:
            raise NotFound(N_("{company} has no unit called {name}."), company=company.name, name=unit)
        company = found
    return company


def _unique_slug(session: Session, base: str) -> str:
    taken = set(session.scalars(select(Company.slug).where(
        or_(Company.slug == base, Company.slug.like(_escape_like(base) + "-%", escape="\\")))))
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


def _sibling(session: Session, name: str, parent: Company | None) -> Company | None:
    return session.scalars(select(Company).where(
        Company.parent_key == (parent.id if parent else 0),
        Company.name_key == search_key(name))).first()


def _supplier_for(uow: UnitOfWork, email: str, supplier_name: str | None) -> tuple[Company, Person]:
    """The supplier company behind an address: the one named, else the one the person belongs to,
    else a new supplier company named after the address (renamed when the supplier tells us more)."""
    session, now = uow.session, uow.now()
    person = session.scalars(select(Person).where(Person.email == email)).first()
    if person is None:
        person = Person(email=email, created_at=now)
        session.add(person)
    supplier = None
    if supplier_name:
        supplier = _sibling(session, _clean_name(supplier_name), None)
    elif person.id is not None:
        supplier = session.scalars(
            select(Company).join(Membership, Membership.company_id == Company.id)
            .where(Membership.person_id == person.id, Company.role.in_([Role.SUPPLIER, Role.BOTH]))
            .order_by(Membership.id)).first()
    if supplier is None:
        name = _clean_name(supplier_name) if supplier_name else email
        supplier = _sibling(session, name, None)
    if supplier is None:
        supplier = Company(role=Role.SUPPLIER, parent_key=0, created_at=now, locale=_guess_locale(email),
                           slug=_unique_slug(session, slugify(name)))
        supplier.set_name(name)
        session.add(supplier)
        session.flush()
    elif supplier.role == Role.CUSTOMER:
        supplier.role = Role.BOTH
    if not any(m.company_id == supplier.id for m in person.memberships):
        session.add(Membership(company=supplier, person=person, role=MemberRole.CONTACT))
    session.flush()
    return supplier, person


def _invitation(session: Session, invitation_id: int | None, reply_token: str | None,
                *, lock: bool = False) -> Invitation:
    if invitation_id is not None:
        invitation = session.get(Invitation, invitation_id, with_for_update=lock or None)
    elif reply_token:
        query = select(Invitation).where(Invitation.reply_token == reply_token.lower())
        invitation = session.scalars(query.with_for_update() if lock else query).first()
    else:
        invitation = None
    if invitation is None:
        raise NotFound(N_("There is no invitation with id {id}."), id=invitation_id or "?")
    return invitation


def _document_types(session: Session, codes: Sequence[str]) -> list[DocumentType]:
    found = {t.code: t for t in session.scalars(select(DocumentType).where(DocumentType.code.in_(codes)))}
    unknown = [c for c in codes if c not in found]
    if unknown:
        known = session.scalars(select(DocumentType.code).order_by(DocumentType.id)).all()
        raise InvalidInput(N_("Unknown document type {type}. Known types: {known}."),
                           type=unknown[0], known=list(known))
    return [found[c] for c in codes]


def _type_codes(types: Sequence[str] | str) -> list[str]:
    if isinstance(types, str):
        types = types.split(",")
    codes: list[str] = []
    for code in (t.strip().lower() for t in types):
        if code and code not in codes:
            codes.append(code)
    if not codes:
        raise InvalidInput(N_("Choose at least one document type."))
    return codes


def _status(value: str) -> Status:
    try:
        return Status(value.strip().lower())
    except ValueError:
        raise InvalidInput(N_("Unknown status {status}. Known statuses: {known}."),
                           status=value, known=[s.value for s in Status]) from None


def _role(roles: Iterable[Role | str]) -> Role:
    chosen = {Role(r) for r in roles}
    if Role.BOTH in chosen or {Role.CUSTOMER, Role.SUPPLIER} <= chosen:
        return Role.BOTH
    if not chosen:
        return Role.CUSTOMER
    return chosen.pop()


def _clean_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH or any(ord(ch) < 32 for ch in cleaned):
        raise InvalidInput(N_("A company name must be 1 to {max} characters."), max=MAX_NAME_LENGTH)
    return cleaned


def _clean_message(message: str | None) -> str | None:
    if message is None or not message.strip():
        return None
    message = message.strip().replace("\r\n", "\n").replace("\r", "\n")
    if len(message) > MAX_MESSAGE_LENGTH:
        raise InvalidInput(N_("The message is too long: at most {max} characters."), max=MAX_MESSAGE_LENGTH)
    return message


def _locale(value: str) -> str:
    locale = normalize_locale(value, default="")
    if locale not in SUPPORTED_LOCALES:
        raise InvalidInput(N_("Unsupported language {lang}. Choose en or id."), lang=value)
    return locale


def _guess_locale(email: str) -> str:
    """Indonesian for addresses at Indonesian domains, English otherwise."""
    return "id" if email.rsplit("@", 1)[-1].endswith(".id") else "en"


def _via(via: str) -> str:
    if via not in VIAS:
        raise ValueError(f"unknown channel {via!r}")
    return via


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
