"""What the service modules share: limits and durations, input cleaning, lookups, and ``_move``
(every status change goes through it: the transition, the timestamps and the event)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.orm import Session, aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from tautan.core.errors import (
    InvalidInput,
    NotFound,
)
from tautan.core.events import EVENT_OF_ACTION, EventKind, Via
from tautan.core.freemail import domain_of, is_free_mail
from tautan.core.i18n import N_, SUPPORTED_LOCALES, normalize_locale
from tautan.core.model import (
    Company,
    Connection,
    DocumentType,
    Invitation,
    MemberRole,
    Membership,
    Person,
    Role,
    Status,
    Suppression,
    search_key,
    slugify,
)
from tautan.core.transitions import Action
from tautan.core.uow import UnitOfWork

VIAS = tuple(Via)
INVITATION_TTL = dt.timedelta(days=30)
REQUEST_TTL = dt.timedelta(days=30)
REMINDERS = tuple(dt.timedelta(days=d) for d in (3, 7, 14))
RENEWAL_REQUEST_INTERVAL = dt.timedelta(hours=24)
MAX_PER_PAGE = 200
MAX_MESSAGE_LENGTH = 2000
MAX_NAME_LENGTH = 200
CompanyRef = int | str


def _move(uow: UnitOfWork, connection: Connection, status: str, action: Action, *, actor: str, via: str,
          previous: str | None, invitation: Invitation | None = None, kind: EventKind | None = None,
          **details: Any) -> None:
    connection.status = status
    connection.updated_at = uow.now()
    if invitation is not None:
        connection.invitation = invitation
    uow.record(kind or EVENT_OF_ACTION[action], actor=actor, via=_via(via), customer=connection.customer,
               supplier=connection.supplier, connection=connection, invitation=invitation,
               type=connection.document_type.code, previous=previous, status=status, **details)


class _TestDomains:
    """Whether addresses at special-use test domains (``.test``, RFC 6761) are accepted: for
    laboratories only, off by default (``ALLOW_TEST_DOMAINS``); set once by the composition root."""

    allowed = False


def allow_test_domains(allowed: bool) -> None:
    _TestDomains.allowed = allowed


def normalize_email(email: str) -> str:
    """A valid address in the form it is stored and compared in (lower case), or ``InvalidInput``."""
    candidate = (email or "").strip()
    try:
        result = validate_email(candidate, check_deliverability=False, test_environment=_TestDomains.allowed)
    except EmailNotValidError:
        raise InvalidInput(N_("{email} is not a valid email address."), email=candidate[:320]) from None
    return result.normalized.lower()


def _sendable_email(email: str) -> str:
    """An address invitations can go to. International addresses (ánä@pémasok.example) need
    SMTPUTF8 at every relay on the way, and the reply address must survive the round trip; until
    that is tested end to end they are refused here, clearly, rather than failing in the worker."""
    if not email.isascii():
        raise InvalidInput(N_("{email} contains non-Latin characters. Invitations can only be sent to addresses "
                              "written in plain Latin letters; please use another address of this supplier."),
                           email=email[:320])
    return email


def new_reply_token() -> str:
    """32 lowercase hex characters: safe in the local part of an address, whatever the client does to case."""
    return secrets.token_hex(16)


def _company(session: Session, ref: CompanyRef, *, unit: str | None = None) -> Company:
    if isinstance(ref, int):
        company = session.get(Company, ref)
    else:
        # The name as people write it, else the slug (``pt-pelanggan-jaya``) that `company list` shows.
        company = _sibling(session, ref, None) or session.scalars(
            select(Company).where(Company.slug == ref.strip().lower())).first()
    if company is None:
        raise NotFound(N_("There is no company called {name}."), name=str(ref))
    if unit:
        found = _sibling(session, unit, company)
        if found is None:
            raise NotFound(N_("{company} has no unit called {name}."), company=company.name, name=unit)
        company = found
    return company


def _unique_slug(session: Session, base: str, also_taken: Collection[str] = ()) -> str:
    """``base``, else ``base-2``, ``base-3``, ...: the first one free. Looked up by equality on the
    unique index, a few candidates at a time, so the cost does not grow with the number of
    companies. ``also_taken``: slugs given out in this transaction but not yet written."""
    for start in range(1, 10_000, 20):
        candidates = [base if n == 1 else f"{base}-{n}" for n in range(start, start + 20)]
        taken = set(session.scalars(select(Company.slug).where(Company.slug.in_(candidates)))) | set(also_taken)
        free = next((c for c in candidates if c not in taken), None)
        if free is not None:
            return free
    raise InvalidInput(N_("A company name must be 1 to {max} characters."), max=MAX_NAME_LENGTH)


def _sibling(session: Session, name: str, parent: Company | None) -> Company | None:
    return session.scalars(select(Company).where(
        Company.parent_key == (parent.id if parent else 0),
        Company.name_key == search_key(name))).first()


def _person(uow: UnitOfWork, email: str) -> Person:
    person = uow.session.scalars(select(Person).where(Person.email == email)).first()
    if person is None:
        person = Person(email=email, created_at=uow.now())
        uow.session.add(person)
    return person


def _supplier_of(session: Session, person: Person) -> Company | None:
    # A person not yet flushed has no id (the mapped type says int) and no memberships to look through.
    if getattr(person, "id", None) is None:
        return None
    return session.scalars(
        select(Company).join(Membership, Membership.company_id == Company.id)
        .where(Membership.person_id == person.id, Company.role.in_([Role.SUPPLIER, Role.BOTH]),
               Company.parent_id.is_(None))
        .order_by(Membership.id)).first()


def _new_supplier(uow: UnitOfWork, name: str, email: str) -> Company:
    session = uow.session
    supplier = Company(role=Role.SUPPLIER, parent_key=0, created_at=uow.now(), locale=_guess_locale(email),
                       slug=_unique_slug(session, slugify(name)))
    supplier.set_name(_unique_name(session, name))
    session.add(supplier)
    session.flush()
    return supplier


def _unique_name(session: Session, name: str) -> str:
    """``name``, or ``name (2)``, ``name (3)``…: the first no top-level company has."""
    if _sibling(session, name, None) is None:
        return name
    for n in range(2, 1000):
        suffix = f" ({n})"
        candidate = name[:MAX_NAME_LENGTH - len(suffix)] + suffix
        if _sibling(session, candidate, None) is None:
            return candidate
    raise InvalidInput(N_("A company named {name} already exists."), name=name)


def _join(session: Session, supplier: Company, person: Person) -> None:
    if supplier.role == Role.CUSTOMER:
        supplier.role = Role.BOTH
    if not any(m.company_id == supplier.id for m in person.memberships):
        session.add(Membership(company=supplier, person=person, role=MemberRole.CONTACT))
    session.flush()


def _supplier_for(uow: UnitOfWork, email: str, supplier_name: str | None) -> tuple[Company, Person]:
    """The supplier company a customer admin invites: the one the admin named, else the one the
    address belongs to, else a new one named after the address. The admin vouches for the pairing,
    and only the mailbox that receives the invitation's token can answer it."""
    session = uow.session
    person = _person(uow, email)
    supplier = _sibling(session, _clean_name(supplier_name), None) if supplier_name else _supplier_of(session, person)
    if supplier is None:
        name = _clean_name(supplier_name) if supplier_name else email
        supplier = _sibling(session, name, None) or _new_supplier(uow, name, email)
    _join(session, supplier, person)
    return supplier, person


def _supplier_for_request(uow: UnitOfWork, email: str, supplier_name: str | None) -> tuple[Company, Person, str | None]:
    """The supplier company behind a request from a confirmed address, and the name of an existing
    company the requester typed but may not join (for the admins' warning), if any.

    Typing a company's name never makes anyone its contact: an existing supplier company is joined
    only by its contacts, or by an address at its verified domain. Any other request creates a new
    company (its name made unique), so the customer's admins see a newcomer, not an impostor."""
    session = uow.session
    person = _person(uow, email)
    session.flush()
    domain = domain_of(email)
    similar = None
    if supplier_name:
        name = _clean_name(supplier_name)
        named = _sibling(session, name, None)
        if named is not None and named.parent_id is None and _may_join(named, person, domain):
            _join(session, named, person)
            return named, person, None
        similar = named.name if named is not None else None
        supplier = _new_supplier(uow, name, email)
    else:
        supplier = _supplier_of(session, person) or _by_domain(session, domain) or _new_supplier(uow, email, email)
    _verify_domain(session, supplier, email)
    _join(session, supplier, person)
    return supplier, person, similar


def _by_domain(session: Session, domain: str) -> Company | None:
    if not domain or is_free_mail(domain):
        return None
    return session.scalars(select(Company).where(
        Company.verified_domain == domain, Company.parent_id.is_(None),
        Company.role.in_([Role.SUPPLIER, Role.BOTH])).order_by(Company.id).limit(1)).first()


def _may_join(company: Company, person: Person, domain: str) -> bool:
    if any(m.company_id == company.id for m in person.memberships):
        return True
    return (company.role in (Role.SUPPLIER, Role.BOTH) and company.verified_domain is not None
            and not is_free_mail(domain) and company.verified_domain == domain)


_HOLDER = aliased(Company)
# the check and the change in one statement
_TAKE_DOMAIN = (update(Company).where(
    Company.id == bindparam("company_id"), Company.verified_domain.is_(None),
    ~exists().where(_HOLDER.verified_domain == bindparam("domain"), _HOLDER.id != bindparam("company_id")))
    .values(verified_domain=bindparam("domain")).execution_options(synchronize_session=False))


def _verify_domain(session: Session, company: Company, email: str) -> None:
    """A contact confirmed ``email`` (a link or reply reached its mailbox): its domain becomes the
    company's verified domain, unless it is a shared provider, the company has one already, or
    another company holds it (checked and changed by one statement)."""
    domain = domain_of(email)
    if company.verified_domain is not None or not domain or is_free_mail(domain):
        return
    if company.id is None or company in session.new:
        session.flush()  # a company this transaction made: written first, to have its row
    # (a verified domain is only ever set here, by this statement: the check sees every earlier
    # one, of this transaction too)
    with session.no_autoflush:
        result = session.connection().execute(_TAKE_DOMAIN, {"domain": domain, "company_id": company.id})
    if result.rowcount == 1:
        set_committed_value(company, "verified_domain", domain)


def _invitation(session: Session, invitation_id: int | None, reply_token: str | None,
                *, lock: bool = False) -> Invitation:
    if invitation_id is not None:
        invitation = session.get(Invitation, invitation_id, with_for_update=lock or None)
    elif reply_token:
        invitation = _by_token(session, reply_token.lower(), lock=lock)
    else:
        invitation = None
    if invitation is None:
        raise NotFound(N_("There is no invitation with id {id}."), id=invitation_id or "?")
    return invitation


_BY_TOKEN = "tautan_invitation_by_token"


# The statements of ``_by_token``, built once: building a query with its loading options (and its
# cache key) costs more than running it.
_INVITATION_BY_TOKEN = (
    select(Invitation).where(Invitation.reply_token == bindparam("token"))
    .options(joinedload(Invitation.customer), joinedload(Invitation.supplier),
             joinedload(Invitation.connections).joinedload(Connection.document_type)))
# the row as locked, even if this session holds an older copy of it
_INVITATION_BY_TOKEN_LOCKED = (_INVITATION_BY_TOKEN.with_for_update(of=Invitation)
                               .execution_options(populate_existing=True))
_LOCK_VERSION = select(Invitation.version).where(Invitation.id == bindparam("id")).with_for_update()


_INVITATIONS_BY_TOKENS_LOCKED = (
    select(Invitation).where(Invitation.reply_token.in_(bindparam("tokens", expanding=True)))
    .options(joinedload(Invitation.customer), joinedload(Invitation.supplier),
             joinedload(Invitation.connections).joinedload(Connection.document_type))
    .order_by(Invitation.id)  # rows locked in one order, so two such statements never deadlock
    .with_for_update(of=Invitation).execution_options(populate_existing=True))
_LOCKED = "tautan_invitations_locked"


def _load_by_tokens(session: Session, tokens: Sequence[str]) -> list[int]:
    """The invitations with these reply tokens, loaded and locked with one statement, for
    ``_by_token`` to find in this transaction (several replies processed together); their ids."""
    known: dict[str, Invitation] = session.info.setdefault(_BY_TOKEN, {})
    locked: set[int] = session.info.setdefault(_LOCKED, set())
    found = []
    for invitation in session.scalars(_INVITATIONS_BY_TOKENS_LOCKED,
                                      {"tokens": sorted({t.lower() for t in tokens})}).unique():
        known[invitation.reply_token] = invitation
        locked.add(invitation.id)  # held until this transaction ends: its copy stays current
        found.append(invitation.id)
    return found


def _by_token(session: Session, token: str, *, lock: bool) -> Invitation | None:
    """The invitation with this reply token, loaded with what its view needs (its companies, its
    connections and their types) in one statement. Several services called in one unit of work
    about the same reply (processing an inbound message) find it again without a query, unless a
    lock is wanted: on PostgreSQL a ``SELECT ... FOR UPDATE`` of its version (reloading it only
    when someone changed it since); on SQLite the transaction has held the database's write lock
    since it began, so a row it loaded is current."""
    known: dict[str, Invitation] = session.info.setdefault(_BY_TOKEN, {})
    invitation = known.get(token)
    if invitation is not None and invitation.reply_token == token and invitation in session:
        if not lock or session.get_bind().dialect.name == "sqlite" or invitation.id in session.info.get(_LOCKED, ()):
            return invitation
        # Lock the row; the copy held is current unless someone changed it since (its version).
        # What this unit of work has not written yet (an event, say) waits for the next flush,
        # unless it is a change of this invitation: that is written first, and meets the check
        # of its version there.
        if invitation in session.dirty:
            session.flush()
        with session.no_autoflush:
            if session.scalar(_LOCK_VERSION, {"id": invitation.id}) != invitation.version:
                session.refresh(invitation, with_for_update=True)
        return invitation
    query = _INVITATION_BY_TOKEN_LOCKED if lock else _INVITATION_BY_TOKEN
    invitation = session.scalars(query, {"token": token}).unique().first()
    if invitation is not None:
        known[token] = invitation
    return invitation


def _document_types(session: Session, codes: Sequence[str]) -> list[DocumentType]:
    found = {t.code: t for t in session.scalars(select(DocumentType).where(DocumentType.code.in_(codes)))}
    unknown = [c for c in codes if c not in found]
    if unknown:
        known = session.scalars(select(DocumentType.code).order_by(DocumentType.id)).all()
        raise InvalidInput(N_("Unknown document type {type}. Known types: {known}."),
                           type=unknown[0], known=list(known))
    return [found[c] for c in codes]


def _suppressed(session: Session, email: str, customer: Company) -> bool:
    return session.scalars(select(Suppression.id).where(
        Suppression.email == email, Suppression.customer_id == customer.id).limit(1)).first() is not None


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


# Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) can make a name
# or a message read differently from what it is ("PT Maju\u202eesrever"); no real name needs
# them, so they are removed on input. Marks (U+200E, U+200F) only affect neighbouring neutrals and stay.
BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def _strip_bidi(text: str) -> str:
    return text.translate(BIDI_CONTROLS)


def _clean_name(name: str) -> str:
    cleaned = " ".join(_strip_bidi(name or "").split())
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH or any(ord(ch) < 32 for ch in cleaned):
        raise InvalidInput(N_("A company name must be 1 to {max} characters."), max=MAX_NAME_LENGTH)
    return cleaned


def _clean_message(message: str | None) -> str | None:
    if message is None or not _strip_bidi(message).strip():
        return None
    message = _strip_bidi(message).strip().replace("\r\n", "\n").replace("\r", "\n")
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


def _via(via: Via | str) -> Via:
    return Via(via)  # an unknown channel is a programming error: ValueError


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


