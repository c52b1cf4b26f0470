"""The supplier page's use cases: signing in by email (no password), answering an invitation per
document type, asking again, withdrawing, disconnecting, and the supplier company's contacts.

Every function that acts on a connection takes the signed-in contact's ``supplier_id`` and finds
only that company's connections: another company's connection id is "not found", exactly like an
id that does not exist, so the page tells nobody whether it exists."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tautan.core.errors import (
    InvalidInput,
    InvitationExpired,
    LastContact,
    LinkExpired,
    LinkUsed,
    NotFound,
    TooManyRequests,
)
from tautan.core.events import Channel, EventKind
from tautan.core.i18n import N_
from tautan.core.model import (
    Company,
    Connection,
    Event,
    InvitationStatus,
    MemberRole,
    Membership,
    Person,
    Role,
    SignIn,
    Status,
)
from tautan.core.services._base import _clean_name, _move, _via, normalize_email
from tautan.core.services.news import tell_supplier
from tautan.core.services.requests import _act, _request
from tautan.core.transitions import Action, Side, transition
from tautan.core.uow import UnitOfWork
from tautan.core.views import ConnectionView, connection_view

SIGN_IN_TTL = dt.timedelta(minutes=30)
SESSION_TTL = dt.timedelta(hours=12)
# Per address and per client (the web client's address), within the window.
SIGN_IN_WINDOW = dt.timedelta(minutes=15)
MAX_SIGN_INS_PER_ADDRESS = 3
MAX_SIGN_INS_PER_CLIENT = 10
MAX_CLIENT_LENGTH = 64


@dataclass(frozen=True)
class SupplierSession:
    """Who is signed in: a contact (person) of one supplier company."""

    person_id: int
    email: str
    name: str | None
    supplier_id: int
    supplier: str
    locale: str


def _supplier_of(person: Person) -> Company | None:
    memberships = sorted(person.memberships, key=lambda m: m.id)
    for membership in memberships:
        if membership.company.role in (Role.SUPPLIER, Role.BOTH) and membership.company.parent_id is None:
            return membership.company
    return None


def _session_view(person: Person, supplier: Company) -> SupplierSession:
    return SupplierSession(person_id=person.id, email=person.email, name=person.name, supplier_id=supplier.id,
                           supplier=supplier.name, locale=person.locale or supplier.locale)


def request_sign_in(uow: UnitOfWork, *, email: str, client: str, lang: str) -> bool:
    """Someone asks for a sign-in link. When the address is a supplier contact's, a single-use
    link is emailed to it. The answer to the asker is the same either way (returns whether a
    link was queued, for tests and logs only); too many requests for the address or from the
    client raise ``TooManyRequests``, for known and unknown addresses alike."""
    email = normalize_email(email)
    client = (client or "unknown")[:MAX_CLIENT_LENGTH]
    with uow:
        session, now = uow.session, uow.now()
        since = now - SIGN_IN_WINDOW
        by_address = session.scalar(select(func.count(SignIn.id)).where(
            SignIn.email == email, SignIn.requested_at > since)) or 0
        by_client = session.scalar(select(func.count(SignIn.id)).where(
            SignIn.client == client, SignIn.requested_at > since)) or 0
        if by_address >= MAX_SIGN_INS_PER_ADDRESS or by_client >= MAX_SIGN_INS_PER_CLIENT:
            raise TooManyRequests()
        person = session.scalars(select(Person).where(Person.email == email)).first()
        supplier = _supplier_of(person) if person is not None else None
        row = SignIn(email=email, client=client, requested_at=now)
        if person is not None and supplier is not None:
            row.nonce = secrets.token_urlsafe(24)
            row.person_id, row.supplier_id = person.id, supplier.id
            uow.enqueue(channel=Channel.EMAIL, kind="sign_in", recipient=email,
                        lang=person.locale or lang or supplier.locale, nonce=row.nonce, supplier=supplier.name)
        session.add(row)
        uow.commit()
    return row.nonce is not None


def sign_in(uow: UnitOfWork, *, nonce: str, ttl: dt.timedelta = SIGN_IN_TTL) -> SupplierSession:
    """The emailed link was opened: the contact is signed in. A link works once, for ``ttl``."""
    with uow:
        session, now = uow.session, uow.now()
        row = session.scalars(select(SignIn).where(SignIn.nonce == nonce).with_for_update()).first()
        if row is None or row.person_id is None or row.supplier_id is None:
            raise LinkExpired()
        if row.used_at is not None:
            raise LinkUsed()
        if now - row.requested_at > ttl:
            raise LinkExpired()
        person, supplier = session.get(Person, row.person_id), session.get(Company, row.supplier_id)
        if person is None or supplier is None or not _is_contact(session, person.id, supplier.id):
            raise LinkExpired()
        row.used_at = now
        uow.record(EventKind.SIGNED_IN, actor=f"email:{person.email}", via="link", supplier=supplier)
        view = _session_view(person, supplier)
        uow.commit()
    return view


def current_contact(uow: UnitOfWork, *, person_id: int, supplier_id: int) -> SupplierSession:
    """The signed-in contact, checked again on every page: a removed contact is signed out."""
    with uow:
        session = uow.session
        person, supplier = session.get(Person, person_id), session.get(Company, supplier_id)
        if person is None or supplier is None or not _is_contact(session, person_id, supplier_id):
            raise NotFound(N_("You are no longer a contact of this supplier. Please sign in again."))
        return _session_view(person, supplier)


def _is_contact(session: Session, person_id: int, supplier_id: int) -> bool:
    return session.scalars(select(Membership.id).where(
        Membership.person_id == person_id, Membership.company_id == supplier_id).limit(1)).first() is not None


def _own_connection(uow: UnitOfWork, supplier_id: int, connection_id: int) -> Connection:
    connection = uow.session.get(Connection, connection_id, with_for_update=True)
    if connection is None or connection.supplier_id != supplier_id:
        raise NotFound(N_("There is no connection with id {id}."), id=connection_id)
    return connection


def answer_type(uow: UnitOfWork, *, supplier_id: int, connection_id: int, accept: bool, actor: str,
                via: str) -> ConnectionView:
    """The supplier accepts (or declines) one document type of an invitation, leaving the others
    open. The invitation closes once none of its types is waiting: accepted when any was."""
    action = Action.ACCEPT if accept else Action.DECLINE
    with uow:
        session, now = uow.session, uow.now()
        connection = _own_connection(uow, supplier_id, connection_id)
        invitation = connection.invitation
        current = connection.status
        status = transition(action, current, Side.SUPPLIER)
        if invitation is not None and now >= invitation.expires_at:
            raise InvitationExpired(expired_at=invitation.expires_at)
        _move(uow, connection, status, action, actor=actor, via=via, previous=current, invitation=invitation)
        if invitation is not None:
            mine = [c for c in invitation.connections if c.invitation_id == invitation.id]
            if not any(c.status == Status.INVITED for c in mine):
                accepted = any(c.status == Status.CONNECTED for c in mine)
                invitation.status = InvitationStatus.ACCEPTED if accepted else InvitationStatus.DECLINED
                invitation.closed_at = now
        session.flush()
        view = connection_view(connection)
        uow.commit()
    return view


def reconnect(uow: UnitOfWork, *, supplier_id: int, connection_id: int, actor: str, via: str) -> ConnectionView:
    """The supplier asks again, after a rejection, a cancellation, an expiry or a disconnection:
    the connection becomes ``requested`` and the customer's admins are told (Approve/Deny)."""
    with uow:
        connection = _own_connection(uow, supplier_id, connection_id)
        _request(uow, connection.supplier, connection.customer, [connection.document_type.code],
                 actor=actor, via=via)
        view = connection_view(connection)
        uow.commit()
    return view


def withdraw(uow: UnitOfWork, *, supplier_id: int, connection_id: int, actor: str, via: str) -> ConnectionView:
    """The supplier withdraws a request the customer has not answered yet (the customer's channel is told)."""
    return _act(uow, Action.CANCEL, Side.SUPPLIER, connection_id=connection_id, actor=actor, via=via,
                supplier_id=supplier_id, kind=EventKind.WITHDRAWN)


# --- contacts ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ContactView:
    person_id: int
    email: str
    name: str | None


def contacts(uow: UnitOfWork, *, supplier_id: int) -> list[ContactView]:
    """Who can act for the supplier company."""
    with uow:
        rows = uow.session.scalars(
            select(Person).join(Membership, Membership.person_id == Person.id)
            .where(Membership.company_id == supplier_id).order_by(Person.email))
        return [ContactView(person_id=p.id, email=p.email, name=p.name) for p in rows]


def add_contact(uow: UnitOfWork, *, supplier_id: int, email: str, name: str | None, actor: str, via: str,
                lang: str) -> ContactView:
    """A contact adds a colleague, who is told by email and can then sign in."""
    email = normalize_email(email)
    name = _clean_name(name) if name and name.strip() else None
    with uow:
        session, now = uow.session, uow.now()
        supplier = session.get(Company, supplier_id)
        if supplier is None:
            raise NotFound()
        person = session.scalars(select(Person).where(Person.email == email)).first()
        if person is None:
            person = Person(email=email, name=name, created_at=now)
            session.add(person)
            session.flush()
        elif name and not person.name:
            person.name = name
        if _is_contact(session, person.id, supplier.id):
            raise InvalidInput(N_("{email} is already a contact of {supplier}."), email=email, supplier=supplier.name)
        session.add(Membership(company=supplier, person=person, role=MemberRole.CONTACT))
        uow.record(EventKind.CONTACT_ADDED, actor=actor, via=_via(via), supplier=supplier, email=email)
        uow.enqueue(channel=Channel.EMAIL, kind="contact_added", recipient=email, lang=person.locale or lang,
                    supplier=supplier.name, added_by=actor.removeprefix("email:"))
        session.flush()
        view = ContactView(person_id=person.id, email=person.email, name=person.name)
        uow.commit()
    return view


def remove_contact(uow: UnitOfWork, *, supplier_id: int, person_id: int, actor: str, via: str) -> None:
    """A contact removes a colleague (or itself); the last contact cannot be removed."""
    with uow:
        session = uow.session
        supplier = session.get(Company, supplier_id, with_for_update=True)
        membership = session.scalars(select(Membership).where(
            Membership.company_id == supplier_id, Membership.person_id == person_id)).first()
        if supplier is None or membership is None:
            raise NotFound(N_("There is no such contact."))
        count = session.scalar(select(func.count(Membership.id)).where(Membership.company_id == supplier_id)) or 0
        if count <= 1:
            raise LastContact(email=membership.person.email, supplier=supplier.name)
        email = membership.person.email
        session.delete(membership)
        uow.record(EventKind.CONTACT_REMOVED, actor=actor, via=_via(via), supplier=supplier, email=email)
        uow.commit()


def check_sign_in(uow: UnitOfWork, *, nonce: str, ttl: dt.timedelta = SIGN_IN_TTL) -> str:
    """The address a sign-in link is for, without using it up (the page asks for one click first:
    mail scanners open every link). Raises like ``sign_in`` for a used or expired link."""
    with uow:
        row = uow.session.scalars(select(SignIn).where(SignIn.nonce == nonce)).first()
        if row is None or row.person_id is None:
            raise LinkExpired()
        if row.used_at is not None:
            raise LinkUsed()
        if uow.now() - row.requested_at > ttl:
            raise LinkExpired()
        return row.email


REQUEST_REMINDER_AFTER = dt.timedelta(days=7)


def remind_waiting_requests(uow: UnitOfWork, *, after: dt.timedelta = REQUEST_REMINDER_AFTER,
                            limit: int = 500) -> list[int]:
    """Tell suppliers that a request the customer has not answered for ``after`` is still waiting
    (once per request); returns the connections reminded of."""
    with uow:
        session, now = uow.session, uow.now()
        reminded = select(Event.connection_id).where(Event.kind == EventKind.REQUEST_REMINDED,
                                                     Event.connection_id == Connection.id,
                                                     Event.at >= Connection.updated_at)
        due = list(session.scalars(select(Connection).where(
            Connection.status == Status.REQUESTED, Connection.updated_at <= now - after, ~reminded.exists())
            .order_by(Connection.id).limit(limit).with_for_update(skip_locked=True)))
        groups: dict[tuple[int, int], list[Connection]] = {}
        for connection in due:
            groups.setdefault((connection.supplier_id, connection.customer_id), []).append(connection)
        for connections in groups.values():
            tell_supplier(uow, connections, "waiting")
            for connection in connections:
                uow.record(EventKind.REQUEST_REMINDED, actor="system", via="system", customer=connection.customer,
                           supplier=connection.supplier, connection=connection, type=connection.document_type.code)
        uow.commit()
    return [c.id for c in due]
