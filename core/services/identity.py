"""Who a supplier is (legal name, country, tax id, PEPPOL participant id) and what a customer
tells its suppliers (its sign-up profile: listed in the directory or not, how it wants each
document type once connected, whom to contact, instructions in both languages)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session
from stdnum import util as stdnum_util
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.id import npwp

from tautan.core.errors import InvalidInput, NotFound
from tautan.core.events import EventKind
from tautan.core.freemail import domain_of, is_free_mail
from tautan.core.i18n import N_, SUPPORTED_LOCALES
from tautan.core.model import (
    DOCUMENT_TYPES,
    Company,
    Connection,
    MemberRole,
    Membership,
    Outbox,
    Person,
    Role,
    search_key,
)
from tautan.core.services._base import (
    MAX_MESSAGE_LENGTH,
    MAX_NAME_LENGTH,
    CompanyRef,
    _clean_message,
    _clean_name,
    _company,
    _escape_like,
    _locale,
    _via,
    normalize_email,
)
from tautan.core.uow import UnitOfWork

# How a customer receives a document type once connected.
METHODS = ("peppol", "email", "portal")
# ISO 6523 ICD scheme (four digits), a colon, the identifier; the PEPPOL "iso6523-actorid-upis::" prefix is optional.
PEPPOL_ID = re.compile(r"(?:iso6523-actorid-upis::)?(\d{4}):([A-Za-z0-9][A-Za-z0-9._\-]{0,49})", re.IGNORECASE)
URL = re.compile(r"https://[^\s<>\"']{3,300}")
PROFILE_TEXTS = ("instructions", "terms", "privacy")
MAX_DIRECTORY = 20


# --- validation ------------------------------------------------------------------------------

def clean_peppol_id(value: str) -> str:
    """A PEPPOL participant id in its stored form (``scheme:value``, lower case) or ``InvalidInput``."""
    found = PEPPOL_ID.fullmatch((value or "").strip())
    if found is None:
        raise InvalidInput(N_("{value} is not a PEPPOL participant id: write it as scheme:value, for example "
                              "0195:SGUEN201912345A."), value=(value or "")[:100])
    return f"{found.group(1)}:{found.group(2)}".lower()


def clean_tax_id(country: str, value: str) -> str:
    """A tax id in compact form, checked for the country (Indonesia: NPWP, with its check digit)."""
    country = clean_country(country)
    raw = (value or "").strip()
    module = npwp if country == "ID" else stdnum_util.get_cc_module(country.lower(), "vat")
    if module is None:  # a country whose tax ids we cannot check: keep a plausible one as written
        compact = re.sub(r"[\s.\-/]", "", raw).upper()
        if not re.fullmatch(r"[A-Z0-9]{4,32}", compact):
            raise InvalidInput(N_("{value} is not a valid tax id."), value=raw[:40])
        return compact
    try:
        return str(module.validate(raw))
    except InvalidChecksum:
        raise InvalidInput(N_("The check digit of tax id {value} is wrong: please check the number."),
                           value=raw[:40]) from None
    except ValidationError:
        raise InvalidInput(N_("{value} is not a valid tax id."), value=raw[:40]) from None


def clean_country(value: str) -> str:
    country = (value or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise InvalidInput(N_("{value} is not a country code: use two letters, for example ID."), value=value[:20])
    return country


def format_tax_id(country: str | None, tax_id: str | None) -> str | None:
    if tax_id and country == "ID":
        try:
            return str(npwp.format(tax_id))
        except ValidationError:  # stored before the check existed: show it as it is
            return tax_id
    return tax_id


# --- a supplier's identity -------------------------------------------------------------------

@dataclass(frozen=True)
class IdentityView:
    id: int
    name: str
    legal_name: str | None
    country: str | None
    tax_id: str | None  # formatted for people (NPWP 01.300.066.6-091.000)
    peppol_id: str | None
    verified_domain: str | None
    duplicate_of: str | None = None


def identity_view(company: Company, duplicate_of: str | None = None) -> IdentityView:
    return IdentityView(id=company.id, name=company.name, legal_name=company.legal_name, country=company.country,
                        tax_id=format_tax_id(company.country, company.tax_id), peppol_id=company.peppol_id,
                        verified_domain=company.verified_domain, duplicate_of=duplicate_of)


def set_supplier_identity(uow: UnitOfWork, *, supplier: CompanyRef, actor: str, via: str,
                          legal_name: str | None = None, country: str | None = None, tax_id: str | None = None,
                          peppol_id: str | None = None, customer: CompanyRef | None = None) -> IdentityView:
    """The supplier tells who it is. Each detail is filled once (a different value later is a user
    error: the customer corrects it). A tax or PEPPOL id another supplier company already holds is
    kept, and flagged to the customers' admins as a possible duplicate, never silently merged."""
    legal = _clean_name(legal_name) if legal_name and legal_name.strip() else None
    country_code = clean_country(country) if country and country.strip() else None
    tax = clean_tax_id(country_code or "ID", tax_id) if tax_id and tax_id.strip() else None
    peppol = clean_peppol_id(peppol_id) if peppol_id and peppol_id.strip() else None
    if tax and not country_code:
        country_code = "ID"
    with uow:
        session = uow.session
        company = _company(session, supplier)
        if not company.is_supplier:
            raise InvalidInput(N_("{name} is not a supplier company."), name=company.name)
        changed: dict[str, Any] = {}
        for field, value in (("legal_name", legal), ("country", country_code), ("tax_id", tax), ("peppol_id", peppol)):
            if value is None or getattr(company, field) == value:
                continue
            if getattr(company, field) is not None:
                raise InvalidInput(N_("{name} already has these details on record; ask the customer to correct "
                                      "them."), name=company.name)
            setattr(company, field, value)
            changed[field] = value
        duplicate = _duplicate(session, company) if ("tax_id" in changed or "peppol_id" in changed) else None
        if changed:
            target = _company(session, customer) if customer is not None else None
            if duplicate is not None:
                changed["duplicate_of"] = duplicate.name
            uow.record(EventKind.SUPPLIER_IDENTITY, actor=actor, via=_via(via), supplier=company, customer=target,
                       **changed)
            if duplicate is not None:
                for each in [target] if target is not None else _customers_of(session, company):
                    uow.record(EventKind.POSSIBLE_DUPLICATE, actor=actor, via=_via(via), supplier=company,
                               customer=each, duplicate_of=duplicate.name, duplicate_id=duplicate.id)
        session.flush()
        view = identity_view(company, duplicate.name if duplicate else None)
        uow.commit()
    return view


def supplier_identity(uow: UnitOfWork, supplier: CompanyRef) -> IdentityView:
    with uow:
        company = _company(uow.session, supplier)
        duplicate = _duplicate(uow.session, company)
        return identity_view(company, duplicate.name if duplicate else None)


def find_duplicate(uow: UnitOfWork, *, tax_id: str | None = None, peppol_id: str | None = None,
                   country: str = "ID", exclude: int | None = None) -> str | None:
    """The name of a company already holding this tax or PEPPOL id (inputs are validated first)."""
    tax = clean_tax_id(country, tax_id) if tax_id else None
    peppol = clean_peppol_id(peppol_id) if peppol_id else None
    with uow:
        found = _holder(uow.session, tax, peppol, exclude)
        return found.name if found else None


def _duplicate(session: Session, company: Company) -> Company | None:
    return _holder(session, company.tax_id, company.peppol_id, company.id)


def _holder(session: Session, tax: str | None, peppol: str | None, exclude: int | None) -> Company | None:
    conditions = [c for c in (Company.tax_id == tax if tax else None,
                              Company.peppol_id == peppol if peppol else None) if c is not None]
    if not conditions:
        return None
    query = select(Company).where(or_(*conditions))
    if exclude is not None:
        query = query.where(Company.id != exclude)
    return session.scalars(query.order_by(Company.id).limit(1)).first()


def _customers_of(session: Session, supplier: Company) -> list[Company]:
    return list(session.scalars(select(Company).where(Company.id.in_(
        select(Connection.customer_id).where(Connection.supplier_id == supplier.id))).order_by(Company.id)))


# --- a customer's sign-up profile ------------------------------------------------------------

@dataclass(frozen=True)
class ProfileView:
    id: int
    name: str
    display_name: str
    slug: str
    listed: bool
    peppol_id: str | None
    invoice_email: str | None
    portal_url: str | None
    contact: str | None
    receive: Mapping[str, str]  # document type -> method, as configured (others are derived)
    texts: Mapping[str, Mapping[str, str]]  # instructions / terms / privacy -> language -> text


def profile_view(company: Company) -> ProfileView:
    profile = _merged_profile(company)
    return ProfileView(id=company.id, name=company.name, display_name=company.display_name, slug=company.slug,
                       listed=bool(company.root.listed), peppol_id=profile.get("peppol_id"),
                       invoice_email=profile.get("invoice_email"), portal_url=profile.get("portal_url"),
                       contact=profile.get("contact"), receive=dict(profile.get("receive") or {}),
                       texts={k: dict(profile.get(k) or {}) for k in PROFILE_TEXTS})


def set_customer_profile(uow: UnitOfWork, *, customer: CompanyRef, actor: str, via: str, unit: str | None = None,
                         listed: bool | None = None, peppol_id: str | None = None,
                         invoice_email: str | None = None, portal_url: str | None = None,
                         contact: str | None = None, lang: str | None = None, instructions: str | None = None,
                         terms: str | None = None, privacy: str | None = None,
                         receive: Mapping[str, str] | None = None) -> ProfileView:
    """A customer (or one of its units) says how its suppliers reach it once connected. ``None``
    leaves a detail as it is, an empty string clears it; texts are per language (``lang``, default
    the company's). A unit's profile falls back to its parent's for what it does not set; the
    directory listing is the customer's own."""
    with uow:
        session = uow.session
        company = _company(session, customer, unit=unit)
        if not company.is_customer:
            raise InvalidInput(N_("{name} is not a customer company."), name=company.display_name)
        locale = _locale(lang) if lang else company.locale
        profile: dict[str, Any] = dict(company.profile or {})
        changed: dict[str, Any] = {}

        def put(key: str, value: Any) -> None:
            if value in ("", None, {}):
                profile.pop(key, None)
            else:
                profile[key] = value
            changed[key] = value

        if peppol_id is not None:
            put("peppol_id", clean_peppol_id(peppol_id) if peppol_id.strip() else "")
        if invoice_email is not None:
            put("invoice_email", normalize_email(invoice_email) if invoice_email.strip() else "")
        if contact is not None:
            put("contact", normalize_email(contact) if contact.strip() else "")
        if portal_url is not None:
            url = portal_url.strip()
            if url and not URL.fullmatch(url):
                raise InvalidInput(N_("{value} is not a web address starting with https://."), value=url[:300])
            put("portal_url", url)
        for key, text in (("instructions", instructions), ("terms", terms), ("privacy", privacy)):
            if text is not None:
                texts = dict(profile.get(key) or {})
                cleaned = _clean_message(text)
                if cleaned:
                    texts[locale] = cleaned
                else:
                    texts.pop(locale, None)
                put(key, texts)
        if receive is not None:
            wanted = dict(profile.get("receive") or {})
            for code, method in receive.items():
                code, method = code.strip().lower(), method.strip().lower()
                if code not in DOCUMENT_TYPES:
                    raise InvalidInput(N_("Unknown document type {type}. Known types: {known}."),
                                       type=code, known=list(DOCUMENT_TYPES))
                if method and method not in METHODS:
                    raise InvalidInput(N_("Unknown way of receiving {value}. Choose peppol, email or portal."),
                                       value=method)
                if method:
                    wanted[code] = method
                else:
                    wanted.pop(code, None)
            put("receive", wanted)
        company.profile = profile or None
        if listed is not None:
            company.root.listed = listed
            changed["listed"] = listed
        if changed:
            uow.record(EventKind.COMPANY_PROFILE, actor=actor, via=_via(via), customer=company,
                       fields=sorted(changed), lang=locale)
        session.flush()
        view = profile_view(company)
        uow.commit()
    return view


def customer_profile(uow: UnitOfWork, customer: CompanyRef, *, unit: str | None = None) -> ProfileView:
    with uow:
        return profile_view(_company(uow.session, customer, unit=unit))


def _merged_profile(company: Company) -> dict[str, Any]:
    """A unit's profile over its parent's: what the unit does not set, the customer's says."""
    merged: dict[str, Any] = dict(company.parent.profile or {}) if company.parent is not None else {}
    for key, value in (company.profile or {}).items():
        if key in PROFILE_TEXTS + ("receive",) and isinstance(value, dict):
            merged[key] = {**(merged.get(key) or {}), **value}
        else:
            merged[key] = value
    return merged


def onboarding_of(company: Company, types: Sequence[str]) -> dict[str, Any]:
    """What a supplier is told once connected, as plain data (stored in an outbox row as it was
    when the supplier connected): per document type how to send it, whom to contact, the
    instructions in every language."""
    profile = _merged_profile(company)
    receive = profile.get("receive") or {}
    ways = []
    for code in types:
        method = receive.get(code) or _default_method(code, profile)
        value = {"peppol": profile.get("peppol_id"), "email": profile.get("invoice_email"),
                 "portal": profile.get("portal_url")}.get(method or "")
        if method and value:
            ways.append({"type": code, "method": method, "value": value})
    contact = profile.get("contact") or _an_admin(company)
    instructions = {k: v for k, v in (profile.get("instructions") or {}).items() if k in SUPPORTED_LOCALES}
    return {"customer": company.display_name, "ways": ways, "contact": contact, "instructions": instructions}


def onboarding(uow: UnitOfWork, *, customer: CompanyRef, types: Sequence[str]) -> dict[str, Any]:
    with uow:
        return onboarding_of(_company(uow.session, customer), types)


def _default_method(code: str, profile: Mapping[str, Any]) -> str | None:
    order = {"invoice": ("peppol", "email", "portal"), "order": ("peppol", "portal", "email"),
             "catalog": ("portal", "peppol", "email")}.get(code, METHODS)
    keys = {"peppol": "peppol_id", "email": "invoice_email", "portal": "portal_url"}
    # An invoice email address is for invoices only; the other types never fall back to it.
    return next((m for m in order if profile.get(keys[m]) and (m != "email" or code == "invoice")), None)


def _an_admin(company: Company) -> str | None:
    session = Session.object_session(company)
    if session is None:
        return None
    companies = sorted({company.id, company.root.id})
    # Several replies to one customer processed in one transaction ask the same: the answer is
    # kept for the transaction, unless a membership changes in it (then asked again).
    if _memberships_change(session):
        session.info.pop(_ADMINS, None)
    known: dict[tuple[int, ...], str | None] = session.info.setdefault(_ADMINS, {})
    key = tuple(companies)
    if key not in known:
        known[key] = session.scalars(_AN_ADMIN, {"companies": companies}).first()
    return known[key]


_ADMINS = "tautan_admins"


def _memberships_change(session: Session) -> bool:
    return any(isinstance(o, Membership) for o in (*session.new, *session.dirty, *session.deleted))


@sa_event.listens_for(Session, "before_flush")
def _forget_admins(session: Session, _context: object, _instances: object) -> None:
    if _ADMINS in session.info and _memberships_change(session):
        del session.info[_ADMINS]


_AN_ADMIN = (select(Person.email).join(Membership, Membership.person_id == Person.id)
             .where(Membership.company_id.in_(bindparam("companies", expanding=True)),
                    Membership.role == MemberRole.ADMIN)
             .order_by(Membership.id).limit(1))


# --- the directory ---------------------------------------------------------------------------

@dataclass(frozen=True)
class DirectoryEntry:
    id: int
    name: str
    slug: str
    units: tuple[tuple[str, str], ...]  # (name, slug)


def directory(uow: UnitOfWork, query: str, *, limit: int = MAX_DIRECTORY) -> list[DirectoryEntry]:
    """Customers that chose to be listed whose name contains ``query`` (Unicode-safe); an empty
    query lists none, so the directory is searched, not browsed."""
    key = search_key(query or "")[:MAX_NAME_LENGTH]
    if len(key) < 2:
        return []
    with uow:
        rows = uow.session.scalars(
            select(Company).where(Company.listed.is_(True), Company.parent_id.is_(None),
                                  Company.role.in_([Role.CUSTOMER, Role.BOTH]),
                                  Company.search_name.like(f"%{_escape_like(key)}%", escape="\\"))
            .order_by(func.length(Company.name), Company.name).limit(min(limit, MAX_DIRECTORY)))
        return [DirectoryEntry(id=c.id, name=c.name, slug=c.slug,
                               units=tuple((u.name, u.slug) for u in c.units)) for c in rows]




# --- the join page ---------------------------------------------------------------------------

@dataclass(frozen=True)
class JoinTarget:
    """A customer (or unit) as its join page shows it."""

    id: int
    name: str
    display_name: str
    customer_slug: str
    unit_slug: str | None  # the unit's part of /join/<customer>/<unit>
    request_slug: str  # for request+<slug>@MAIL_DOMAIN
    locale: str
    types: tuple[str, ...]
    texts: Mapping[str, Mapping[str, str]]
    known_contacts: tuple[str, ...]  # admins' and contacts' addresses (the "contact at the customer" check)
    domains: tuple[str, ...]  # domains of those addresses, shared providers left out


def _join_target(company: Company) -> JoinTarget:
    root = company.root
    session = Session.object_session(company)
    emails: list[str] = []
    if session is not None:
        emails = list(session.scalars(select(Person.email).join(Membership, Membership.person_id == Person.id)
                                      .where(Membership.company_id.in_({company.id, root.id}))))
    profile = _merged_profile(company)
    # The people the customer itself named count as its contacts too.
    emails += [e for e in (profile.get("contact"), profile.get("invoice_email")) if e]
    domains = sorted({domain_of(e) for e in emails if not is_free_mail(e)})
    unit_part = company.slug.removeprefix(root.slug + "-") if company.parent_id is not None else None
    return JoinTarget(id=company.id, name=company.name, display_name=company.display_name,
                      customer_slug=root.slug, unit_slug=unit_part, request_slug=company.slug,
                      locale=company.locale, types=DOCUMENT_TYPES,
                      texts={k: dict(profile.get(k) or {}) for k in PROFILE_TEXTS},
                      known_contacts=tuple(sorted(set(emails))), domains=tuple(domains))


def join_target(uow: UnitOfWork, *, customer_slug: str, unit_slug: str | None = None) -> JoinTarget:
    """The customer (or unit) behind /join/<customer-slug>[/<unit-slug>], or ``NotFound``."""
    with uow:
        session = uow.session
        root = session.scalars(select(Company).where(Company.slug == customer_slug.lower(),
                                                     Company.parent_id.is_(None))).first()
        company = root
        if root is not None and unit_slug:
            company = session.scalars(select(Company).where(
                Company.parent_id == root.id, Company.slug == f"{root.slug}-{unit_slug.lower()}")).first()
        if company is None or not company.is_customer:
            raise NotFound(N_("There is no company called {name}."), name=customer_slug[:80])
        return _join_target(company)


def join_link(uow: UnitOfWork, customer: CompanyRef, *, unit: str | None = None) -> JoinTarget:
    """What a customer admin hands out: the join page's slugs and the request address's."""
    with uow:
        company = _company(uow.session, customer, unit=unit)
        if not company.is_customer:
            raise InvalidInput(N_("{name} is not a customer company."), name=company.display_name)
        return _join_target(company)



def confirmations_from(uow: UnitOfWork, *, client: str, since: dt.timedelta, limit: int = 5000) -> int:
    """How many request confirmations a join form sent lately for one client (a keyed digest of its
    network address, never the address itself): for the per-client rate limit."""
    with uow:
        payloads = uow.session.scalars(
            select(Outbox.payload).where(Outbox.kind == "request_confirm", Outbox.created_at > uow.now() - since)
            .order_by(Outbox.id.desc()).limit(limit))
        return sum(1 for p in payloads if (p or {}).get("client") == client)


__all__ = ["METHODS", "MAX_MESSAGE_LENGTH", "DirectoryEntry", "IdentityView", "JoinTarget", "ProfileView",
           "clean_country", "confirmations_from", "join_link", "join_target",
           "clean_peppol_id", "clean_tax_id", "customer_profile", "directory", "find_duplicate", "format_tax_id",
           "onboarding", "onboarding_of", "set_customer_profile", "set_supplier_identity", "supplier_identity"]
