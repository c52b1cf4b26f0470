"""The read side of the Slack list and type-ahead: a customer's suppliers one item each, paged by
supplier in the order of their newest change (across the company's units), and the suppliers a
customer may pick by name or address. Never another company's rows or addresses."""

from __future__ import annotations

import pytest

from tautan.core import queries, services
from tautan.core.errors import InvalidInput, NotFound
from tautan.core.model import Role
from tautan.core.uow import UnitOfWork
from tests.support import FakeClock

ADMIN = "cli:test"
TYPES = ["catalog", "order", "invoice"]


def company(uow: UnitOfWork, name: str, parent: int | None = None) -> int:
    return services.create_company(uow, name=name, roles=[Role.CUSTOMER], parent=parent, actor=ADMIN, via="cli").id


@pytest.fixture
def customer(uow: UnitOfWork, clock: FakeClock) -> dict[str, int]:
    """PT Pelanggan with two units; twelve suppliers invited by each of the three for every type
    (108 connections), one minute apart; then supplier 00 accepts the invitation of Cabang B.
    PT Lain invites supplier 00 too, at another address."""
    ids = {"customer": company(uow, "PT Pelanggan"), "other": company(uow, "PT Lain")}
    for unit in ("Cabang B", "Cabang A"):
        company(uow, unit, parent=ids["customer"])
    for n in range(12):
        for unit in (None, "Cabang A", "Cabang B"):
            clock.advance(minutes=1)
            view = services.invite(uow, customer=ids["customer"], unit=unit, email=f"sales@pemasok{n:02d}.co.id",
                                   types=TYPES, supplier_name=f"PT Pemasok {n:02d}", actor=ADMIN, via="cli")
            ids[f"{n:02d}/{unit}"] = view.id
            ids[f"supplier {n:02d}"] = view.supplier_id
    clock.advance(minutes=1)
    theirs = services.invite(uow, customer=ids["other"], email="rahasia@pemasok00.co.id", types=["invoice"],
                             supplier_name="PT Pemasok 00", actor=ADMIN, via="cli")
    ids["theirs"] = theirs.supplier_id
    clock.advance(minutes=1)
    services.accept(uow, invitation_id=ids["00/Cabang B"], actor="email:sales@pemasok00.co.id", via="email")
    return ids


def test_suppliers_are_paged_by_their_newest_change_across_units(uow: UnitOfWork, customer: dict[str, int]) -> None:
    first = queries.partners(uow, company_id=customer["customer"], per_page=10)
    assert first.total == 12 and first.page == 1
    assert [p.supplier for p in first.items] == ["PT Pemasok 00", *(f"PT Pemasok {n:02d}" for n in range(11, 2, -1))]
    newest = first.items[0]
    assert len(newest.connections) == 9, "three types at the company and at each unit"
    assert [c.customer for c in newest.connections[::3]] == [
        "PT Pelanggan", "PT Pelanggan / Cabang A", "PT Pelanggan / Cabang B"]
    assert [c.type for c in newest.connections[:3]] == TYPES
    assert newest.last_change == max(c.updated_at for c in newest.connections)

    second = queries.partners(uow, company_id=customer["customer"], page=2, per_page=10)
    assert [p.supplier for p in second.items] == ["PT Pemasok 02", "PT Pemasok 01"] and second.total == 12
    past = queries.partners(uow, company_id=customer["customer"], page=3, per_page=10)
    assert past.items == () and past.total == 12
    one_by_one = [queries.partners(uow, company_id=customer["customer"], page=n, per_page=1).items[0].supplier
                  for n in range(1, 13)]
    assert one_by_one == [p.supplier for p in first.items + second.items]


def test_filters_keep_the_matching_connections(uow: UnitOfWork, customer: dict[str, int]) -> None:
    connected = queries.partners(uow, company_id=customer["customer"], statuses=["connected"])
    (only,) = connected.items
    assert only.supplier == "PT Pemasok 00" and connected.total == 1
    assert {(c.customer, c.status) for c in only.connections} == {("PT Pelanggan / Cabang B", "connected")}
    invoices = queries.partners(uow, company_id=customer["customer"], types=["invoice"], statuses=["invited"],
                                per_page=50)
    assert invoices.total == 12
    assert all({c.type for c in p.connections} == {"invoice"} for p in invoices.items)
    named = queries.partners(uow, company_id=customer["customer"], partner="PEMASOK 1")
    assert [p.supplier for p in named.items] == ["PT Pemasok 11", "PT Pemasok 10"]
    with pytest.raises(InvalidInput):
        queries.partners(uow, company_id=customer["customer"], statuses=["happy"])
    with pytest.raises(InvalidInput):
        queries.partners(uow, company_id=customer["customer"], per_page=0)


def test_another_company_sees_only_its_own(uow: UnitOfWork, customer: dict[str, int]) -> None:
    theirs = queries.partners(uow, company_id=customer["other"])
    (only,) = theirs.items
    assert only.supplier_id == customer["theirs"] and [c.customer for c in only.connections] == ["PT Lain"]
    with pytest.raises(NotFound):
        queries.partner(uow, company_id=customer["other"], supplier_id=customer["supplier 05"])
    assert len(queries.partner(uow, company_id=customer["customer"], supplier_id=customer["supplier 05"])
               .connections) == 9


def test_suppliers_to_pick_match_names_and_the_companys_own_addresses(uow: UnitOfWork,
                                                                      customer: dict[str, int]) -> None:
    ours = customer["customer"]
    assert [c.name for c in queries.supplier_choices(uow, company_id=ours, text="pemasok 1")] == [
        "PT Pemasok 10", "PT Pemasok 11"]
    (by_address,) = queries.supplier_choices(uow, company_id=ours, text="SALES@PEMASOK07")
    assert (by_address.name, by_address.email) == ("PT Pemasok 07", "sales@pemasok07.co.id")
    assert queries.supplier_choices(uow, company_id=ours, text="rahasia") == ()  # PT Lain's address
    assert queries.supplier_choices(uow, company_id=ours, text="%") == ()  # a wildcard is a character
    assert len(queries.supplier_choices(uow, company_id=ours)) == 12
    assert len(queries.supplier_choices(uow, company_id=ours, limit=1000)) == 12
    assert len(queries.supplier_choices(uow, company_id=ours, limit=5)) == 5
    (theirs,) = queries.supplier_choices(uow, company_id=customer["other"], text="pemasok")
    assert theirs.email == "rahasia@pemasok00.co.id", "their own address, never ours"
    assert queries.supplier_choices(uow, company_id=customer["other"], text="sales@") == ()
    assert queries.supplier_addresses(uow, company_id=customer["other"], supplier_id=customer["theirs"]) == (
        "rahasia@pemasok00.co.id",)
    with pytest.raises(NotFound):
        queries.supplier_addresses(uow, company_id=customer["other"], supplier_id=customer["supplier 05"])
