"""Nobody becomes a contact of an existing supplier company by typing its name: membership comes
from an invitation to that address, the company's verified domain, or being a contact already."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tautan.core import services
from tautan.core.freemail import FREE_MAIL_DOMAINS, is_free_mail
from tautan.core.model import Company, Event, Membership, Person
from tautan.core.uow import UnitOfWork
from tests.support import factories as f


def company(uow: UnitOfWork, name: str) -> Company:
    with uow:
        found = uow.session.scalars(select(Company).where(Company.name == name)).one()
        uow.session.expunge(found)
        return found


def companies_of(uow: UnitOfWork, email: str) -> list[str]:
    with uow:
        return list(uow.session.scalars(
            select(Company.name).join(Membership, Membership.company_id == Company.id)
            .join(Person, Person.id == Membership.person_id).where(Person.email == email).order_by(Company.id)))


def request_details(uow: UnitOfWork) -> list[dict[str, object]]:
    with uow:
        return [dict(e.details) for e in uow.session.scalars(
            select(Event).where(Event.kind == "requested").order_by(Event.id))]


def ask(uow: UnitOfWork, email: str, name: str | None, types: tuple[str, ...] = ("invoice",)) -> int:
    (first, *_) = services.request_by_email(uow, email=email, customer=f.CUSTOMER, types=list(types),
                                            supplier_name=name, actor=f"email:{email}", via="link")
    return first.id


@pytest.fixture
def connected(uow: UnitOfWork) -> UnitOfWork:
    """PT Maju Bersama, whose contact ana@pt-maju.co.id accepted an invitation (its domain is verified)."""
    f.companies(uow)
    invitation = f.invite(uow, types=("order",))
    services.accept(uow, invitation_id=invitation.id, actor=f.CONTACT, via="email")
    return uow


def test_accepting_an_invitation_verifies_the_suppliers_domain(connected: UnitOfWork) -> None:
    assert company(connected, f.SUPPLIER).verified_domain == "pt-maju.co.id"


def test_accepting_never_takes_a_domain_another_company_holds(connected: UnitOfWork) -> None:
    # a second company, invited at an address of the domain PT Maju Bersama holds, accepts
    services.create_company(connected, name="PT Lain", roles=["supplier"], actor=f.ADMIN, via="cli")
    invitation = f.invite(connected, types=("invoice",), email="budi@pt-maju.co.id", supplier_name="PT Lain")
    assert services.get_invitation(connected, invitation_id=invitation.id).supplier == "PT Lain"
    services.accept(connected, reply_token=invitation.reply_token, actor="email:budi@pt-maju.co.id", via="email")
    assert company(connected, "PT Lain").verified_domain is None
    assert company(connected, f.SUPPLIER).verified_domain == "pt-maju.co.id"
    # and a company that holds one already keeps it
    other = f.invite(connected, types=("catalog",), email="ana@maju-lain.co.id", supplier_name=f.SUPPLIER)
    services.accept(connected, reply_token=other.reply_token, actor="email:ana@maju-lain.co.id", via="email")
    assert company(connected, f.SUPPLIER).verified_domain == "pt-maju.co.id"


def test_typing_an_existing_name_from_another_domain_makes_a_new_company(connected: UnitOfWork) -> None:
    ask(connected, "mallory@evil.example", f.SUPPLIER)
    assert companies_of(connected, "mallory@evil.example") == [f"{f.SUPPLIER} (2)"]
    assert f.SUPPLIER not in companies_of(connected, "mallory@evil.example")
    (details,) = request_details(connected)
    assert details["similar_to"] == f.SUPPLIER and details["email"] == "mallory@evil.example"
    newcomer = company(connected, f"{f.SUPPLIER} (2)")
    assert newcomer.verified_domain == "evil.example"
    # the genuine company's contacts are untouched
    assert companies_of(connected, f.EMAIL) == [f.SUPPLIER]
    # a second attempt under a differently written name finds the same rule
    ask(connected, "eve@evil2.example", f.SUPPLIER.upper())
    assert companies_of(connected, "eve@evil2.example") == [f"{f.SUPPLIER.upper()} (3)"]


def test_an_address_at_the_verified_domain_joins_the_company(connected: UnitOfWork) -> None:
    ask(connected, "budi@pt-maju.co.id", f.SUPPLIER)
    assert companies_of(connected, "budi@pt-maju.co.id") == [f.SUPPLIER]
    assert "similar_to" not in request_details(connected)[0]
    # without a name, the domain finds the company too
    ask(connected, "citra@pt-maju.co.id", None, types=("catalog",))
    assert companies_of(connected, "citra@pt-maju.co.id") == [f.SUPPLIER]


def test_an_existing_contact_may_name_its_own_company(connected: UnitOfWork) -> None:
    ask(connected, f.EMAIL, f.SUPPLIER.lower())
    assert companies_of(connected, f.EMAIL) == [f.SUPPLIER]
    assert "similar_to" not in request_details(connected)[0]


def test_a_company_without_a_verified_domain_is_never_joined_by_name(uow: UnitOfWork) -> None:
    f.companies(uow)  # PT Maju Bersama exists, but nobody has confirmed an address of it yet
    ask(uow, "ana@pt-maju.co.id", f.SUPPLIER)
    assert companies_of(uow, "ana@pt-maju.co.id") == [f"{f.SUPPLIER} (2)"]
    assert request_details(uow)[0]["similar_to"] == f.SUPPLIER


@pytest.mark.parametrize("domain", ["gmail.com", "yahoo.co.id", "outlook.com"])
def test_a_shared_mail_provider_never_verifies_nor_admits(uow: UnitOfWork, domain: str) -> None:
    f.companies(uow)
    invitation = f.invite(uow, email=f"maju.bersama@{domain}")
    services.accept(uow, invitation_id=invitation.id, actor=f"email:maju.bersama@{domain}", via="email")
    assert company(uow, f.SUPPLIER).verified_domain is None
    ask(uow, f"stranger@{domain}", f.SUPPLIER)
    assert companies_of(uow, f"stranger@{domain}") == [f"{f.SUPPLIER} (2)"]
    assert company(uow, f"{f.SUPPLIER} (2)").verified_domain is None
    # nor does an address there find the company without a name
    ask(uow, f"other@{domain}", None, types=("catalog",))
    assert companies_of(uow, f"other@{domain}") == [f"other@{domain}"]


def test_a_customer_company_is_not_joined_by_name_either(uow: UnitOfWork) -> None:
    f.companies(uow)
    services.create_company(uow, name="PT Lain", roles=["customer"], actor=f.ADMIN, via="cli")
    ask(uow, "x@lain.example", f.CUSTOMER)
    assert companies_of(uow, "x@lain.example") == [f"{f.CUSTOMER} (2)"]


def test_the_shared_provider_table() -> None:
    for domain in ("gmail.com", "yahoo.co.id", "outlook.com", "hotmail.com", "icloud.com", "telkom.net"):
        assert is_free_mail(domain) and is_free_mail(f"someone@{domain.upper()}")
    for domain in ("pt-maju.co.id", "example.com", "evil.example"):
        assert not is_free_mail(domain)
    assert all(d == d.lower().strip() and "." in d for d in FREE_MAIL_DOMAINS)
