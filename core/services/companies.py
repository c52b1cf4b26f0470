"""Use cases for companies and their units."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from tautan.core.errors import (
    InvalidInput,
    NotFound,
)
from tautan.core.i18n import N_
from tautan.core.model import (
    Company,
    Role,
    slugify,
)
from tautan.core.services._base import (
    CompanyRef,
    _clean_name,
    _company,
    _locale,
    _role,
    _sibling,
    _unique_slug,
    _via,
)
from tautan.core.uow import UnitOfWork
from tautan.core.views import (
    CompanyView,
    company_view,
)


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


def set_notices_wanted(uow: UnitOfWork, *, company_id: int, wanted: bool, actor: str, via: str) -> None:
    """Whether a team channel reads this company's notices (a chat adapter sets it when a channel is
    chosen). Changes are queued as notices only while it is on."""
    with uow:
        company = _company(uow.session, company_id).root
        company.notices_wanted = wanted
        uow.commit()


def get_company(uow: UnitOfWork, ref: CompanyRef, *, unit: str | None = None) -> CompanyView:
    with uow:
        return company_view(_company(uow.session, ref, unit=unit))


def get_company_by_slug(uow: UnitOfWork, slug: str) -> CompanyView:
    with uow:
        company = uow.session.scalars(select(Company).where(Company.slug == slug.lower())).first()
        if company is None or not company.is_customer:
            raise NotFound(N_("There is no company called {name}."), name=slug)
        return company_view(company)


def list_companies(uow: UnitOfWork) -> list[CompanyView]:
    """Every company and unit, by name (units after their company), so nobody guesses names."""
    with uow:
        companies = list(uow.session.scalars(select(Company)))
        by_id = {c.id: c for c in companies}
        return [company_view(c) for c in sorted(companies, key=lambda c: (
            (by_id[c.parent_id].name if c.parent_id in by_id else c.name).casefold(), c.parent_id is not None,
            c.name.casefold()))]
