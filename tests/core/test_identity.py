"""A supplier's identity (NPWP, PEPPOL id, duplicates) and a customer's sign-up profile."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tautan.core import services
from tautan.core.errors import InvalidInput, NotFound
from tautan.core.model import Event
from tautan.core.uow import UnitOfWork
from tests.support import factories as f

NPWP = "01.300.066.6-091.000"


def kinds(uow: UnitOfWork) -> list[tuple[str, dict[str, object]]]:
    with uow:
        return [(e.kind, dict(e.details)) for e in uow.session.scalars(select(Event).order_by(Event.id))]


@pytest.mark.parametrize(("value", "compact"), [(NPWP, "013000666091000"), ("013000666091000", "013000666091000")])
def test_a_valid_npwp(value: str, compact: str) -> None:
    assert services.clean_tax_id("ID", value) == compact


@pytest.mark.parametrize(("value", "message"), [
    ("01.300.066.7-091.000", "The check digit of tax id {value} is wrong: please check the number."),
    ("123", "{value} is not a valid tax id."),
    ("01.300.066.6-091.00x", "{value} is not a valid tax id.")])
def test_a_bad_npwp_is_refused(value: str, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        services.clean_tax_id("ID", value)
    assert raised.value.message_id == message


def test_other_countries_tax_ids() -> None:
    assert services.clean_tax_id("de", "DE 136 695 976") == "136695976"
    with pytest.raises(InvalidInput):
        services.clean_tax_id("DE", "DE 136 695 977")
    assert services.clean_tax_id("ZZ", "ab-1234") == "AB1234"  # no checker: kept as written, compact


@pytest.mark.parametrize(("value", "stored"), [("0195:SGUEN201912345A", "0195:sguen201912345a"),
                                               ("iso6523-actorid-upis::0088:5798000000001", "0088:5798000000001")])
def test_a_valid_peppol_id(value: str, stored: str) -> None:
    assert services.clean_peppol_id(value) == stored


@pytest.mark.parametrize("value", ["0195", "SG:123", "01951:abc", "0195:", "0195:a b", "0195:<script>"])
def test_a_bad_peppol_id_is_refused(value: str) -> None:
    with pytest.raises(InvalidInput):
        services.clean_peppol_id(value)


def test_identity_is_filled_once_and_a_duplicate_is_flagged(uow: UnitOfWork) -> None:
    f.companies(uow)
    services.create_company(uow, name="CV Kembar", roles=["supplier"], actor=f.ADMIN, via="cli")
    f.invite(uow)  # PT Maju Bersama has a connection to the customer
    view = services.set_supplier_identity(uow, supplier=f.SUPPLIER, legal_name="PT Maju Bersama Tbk",
                                          tax_id=NPWP, peppol_id="0195:SGUEN201912345A", actor=f.CONTACT, via="link")
    assert (view.legal_name, view.country, view.tax_id, view.peppol_id, view.duplicate_of) == (
        "PT Maju Bersama Tbk", "ID", NPWP, "0195:sguen201912345a", None)
    # the same values again change nothing; another value is refused
    services.set_supplier_identity(uow, supplier=f.SUPPLIER, tax_id="013000666091000", actor=f.CONTACT, via="link")
    with pytest.raises(InvalidInput):
        services.set_supplier_identity(uow, supplier=f.SUPPLIER, legal_name="Another", actor=f.CONTACT, via="link")
    # another company with the same NPWP: kept, and the admins hear of a possible duplicate
    twin = services.set_supplier_identity(uow, supplier="CV Kembar", tax_id="013000666091000", actor="email:x@y.id",
                                          via="link", customer=f.CUSTOMER)
    assert twin.duplicate_of == f.SUPPLIER
    assert services.supplier_identity(uow, "CV Kembar").duplicate_of == f.SUPPLIER
    flagged = [d for k, d in kinds(uow) if k == "possible_duplicate"]
    assert [d["duplicate_of"] for d in flagged] == [f.SUPPLIER]
    assert services.find_duplicate(uow, peppol_id="0195:sguen201912345A") == f.SUPPLIER
    assert services.find_duplicate(uow, tax_id=NPWP, exclude=None) == f.SUPPLIER


def test_a_bad_tax_id_changes_nothing(uow: UnitOfWork) -> None:
    f.companies(uow)
    with pytest.raises(InvalidInput):
        services.set_supplier_identity(uow, supplier=f.SUPPLIER, tax_id="01.300.066.7-091.000", legal_name="X",
                                       actor=f.CONTACT, via="link")
    assert services.supplier_identity(uow, f.SUPPLIER).legal_name is None
    assert not [k for k, _ in kinds(uow) if k == "supplier_identity"]


def test_profile_onboarding_and_directory(uow: UnitOfWork) -> None:
    f.companies(uow)
    services.create_company(uow, name="Gudang Jakarta", parent=f.CUSTOMER, actor=f.ADMIN, via="cli")
    profile = services.set_customer_profile(
        uow, customer=f.CUSTOMER, listed=True, peppol_id="0195:ID123", invoice_email="Faktur@Pelanggan.co.id",
        contact="ap@pelanggan.co.id", instructions="Sebutkan nomor PO.", lang="id", actor=f.ADMIN, via="cli")
    assert profile.listed and profile.invoice_email == "faktur@pelanggan.co.id"
    services.set_customer_profile(uow, customer=f.CUSTOMER, instructions="Quote the PO number.", lang="en",
                                  receive={"catalog": "portal"}, portal_url="https://portal.pelanggan.co.id",
                                  actor=f.ADMIN, via="cli")
    data = services.onboarding(uow, customer=f.CUSTOMER, types=["invoice", "order", "catalog"])
    assert data["ways"] == [{"type": "invoice", "method": "peppol", "value": "0195:id123"},
                            {"type": "order", "method": "peppol", "value": "0195:id123"},
                            {"type": "catalog", "method": "portal", "value": "https://portal.pelanggan.co.id"}]
    assert data["instructions"] == {"id": "Sebutkan nomor PO.", "en": "Quote the PO number."}
    assert data["contact"] == "ap@pelanggan.co.id"
    # a unit falls back to its customer's profile, and overrides what it sets
    services.set_customer_profile(uow, customer=f.CUSTOMER, unit="Gudang Jakarta", receive={"invoice": "email"},
                                  actor=f.ADMIN, via="cli")
    unit = services.join_link(uow, f.CUSTOMER, unit="Gudang Jakarta")
    assert services.onboarding(uow, customer=unit.id, types=["invoice"])["ways"] == [
        {"type": "invoice", "method": "email", "value": "faktur@pelanggan.co.id"}]
    # the directory: listed customers only, searched (never browsed), Unicode-safe
    services.create_company(uow, name="PT Rahasia", actor=f.ADMIN, via="cli")
    assert [e.name for e in services.directory(uow, "PELANGGAN")] == [f.CUSTOMER]
    assert services.directory(uow, "rahasia") == [] and services.directory(uow, "") == []
    assert services.directory(uow, "%") == [] and services.directory(uow, "maju") == []  # suppliers never listed
    assert services.directory(uow, "jaya")[0].units == (("Gudang Jakarta", "pt-pelanggan-jaya-gudang-jakarta"),)
    unit_page = services.join_target(uow, customer_slug="pt-pelanggan-jaya", unit_slug="gudang-jakarta")
    assert unit_page.name == "Gudang Jakarta" and unit_page.unit_slug == "gudang-jakarta"
    with pytest.raises(NotFound):
        services.join_target(uow, customer_slug="pt-maju-bersama")


def test_profile_refuses_bad_input(uow: UnitOfWork) -> None:
    f.companies(uow)
    for bad in ({"peppol_id": "nope"}, {"invoice_email": "not-an-address"}, {"portal_url": "http://x.example"},
                {"receive": {"invoice": "fax"}}, {"receive": {"receipt": "email"}}):
        with pytest.raises(InvalidInput):
            services.set_customer_profile(uow, customer=f.CUSTOMER, actor=f.ADMIN, via="cli", **bad)
    with pytest.raises(InvalidInput):
        services.set_customer_profile(uow, customer=f.SUPPLIER, listed=True, actor=f.ADMIN, via="cli")
    assert services.customer_profile(uow, f.CUSTOMER).peppol_id is None
