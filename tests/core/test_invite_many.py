"""``invite_many`` (an import): the same rules and the same rows as ``invite``, one result per row,
whether a row goes in bulk (someone new) or through ``invite`` (someone known, or a repeat)."""

from __future__ import annotations

from sqlalchemy import func, select

from tautan.core import services
from tautan.core.errors import InvalidInput, NotFound, Suppressed
from tautan.core.model import Company, Connection, Event, Invitation, Membership, Outbox, Person
from tautan.core.services import InviteRow
from tests.support import factories as f


def counts(uow) -> dict[str, int]:  # noqa: ANN001
    with uow:
        return {model.__tablename__: uow.session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Company, Person, Membership, Invitation, Connection, Event, Outbox)}


def test_bulk_rows_write_what_invite_writes(uow) -> None:  # noqa: ANN001
    f.companies(uow)
    one, many = uow, uow
    single = services.invite(one, customer=f.CUSTOMER, email="budi@toko-budi.co.id", types=["order", "invoice"],
                             supplier_name="Toko Budi", message="Halo", actor=f.ADMIN, via="cli")
    before = counts(uow)
    results = services.invite_many(many, customer=f.CUSTOMER, actor=f.ADMIN, via="cli", rows=[
        InviteRow(email="Cici@Toko-Cici.co.id", types="order,invoice", supplier_name="Toko Cici", message="Halo"),
        InviteRow(email="dedi@example.com", types=["catalog"]),
    ])
    after = counts(uow)
    # two rows: the same rows per invitation as one invite call made
    per_invite = {"companies": 1, "people": 1, "memberships": 1, "invitations": 1, "outbox": 1}
    assert {k: after[k] - before[k] for k in per_invite} == {k: 2 for k in per_invite}
    assert after["connections"] - before["connections"] == 3 and after["events"] - before["events"] == 3
    assert [r.invited for r in results] == [True, True] and all(r.error is None for r in results)

    bulk = services.get_invitation(uow, invitation_id=results[0].invitation_id)
    assert (bulk.email, bulk.supplier, bulk.message, bulk.lang, bulk.status) == (
        "cici@toko-cici.co.id", "Toko Cici", "Halo", "id", "pending")
    assert set(bulk.types) == set(single.types) and bulk.expires_at == single.expires_at
    assert services.get_invitation(uow, invitation_id=results[1].invitation_id).lang == "en"
    kinds = [e.kind for e in services.history(uow, invitation_id=bulk.id)]
    assert kinds == [e.kind for e in services.history(uow, invitation_id=single.id)]
    with uow:
        assert uow.session.scalar(select(Company.name).where(Company.slug == "toko-cici")) == "Toko Cici"


def test_each_row_gets_its_own_answer(uow) -> None:  # noqa: ANN001
    f.companies(uow)
    f.invite(uow)  # ana is known already
    services.unsubscribe(uow, invitation_id=f.invite(uow, email="eko@blocked.co.id",
                                                     supplier_name="PT Blok").id, actor="system", via="email")
    results = services.invite_many(uow, customer=f.CUSTOMER, actor=f.ADMIN, via="cli", rows=[
        InviteRow(email="not-an-address", types="invoice"),
        InviteRow(email=f.EMAIL, types="invoice", supplier_name=f.SUPPLIER),  # the live invitation
        InviteRow(email=f.EMAIL, types="order", supplier_name=f.SUPPLIER),  # a new type on it
        InviteRow(email="new@maju-baru.co.id", types="invoice", supplier_name="PT Maju Baru"),
        InviteRow(email="new@maju-baru.co.id", types="invoice", supplier_name="PT Maju Baru"),  # twice in a file
        InviteRow(email="x@y.co.id", types="nonsense"),
        InviteRow(email="eko@blocked.co.id", types="invoice", supplier_name="PT Blok"),
        InviteRow(email="fa@pt-maju-baru.co.id", types="invoice", supplier_name="PT. Maju Baru!"),
    ], chunk=3)
    assert isinstance(results[0].error, InvalidInput)
    assert results[1].invited is False and results[2].invited is True
    assert results[1].invitation_id == results[2].invitation_id
    assert results[3].invited and results[4].invitation_id == results[3].invitation_id and not results[4].invited
    assert isinstance(results[5].error, InvalidInput)
    assert isinstance(results[6].error, Suppressed)
    assert results[7].invited  # a different supplier whose name makes the same slug: a slug of its own
    suppliers = {services.get_invitation(uow, invitation_id=r.invitation_id).supplier_id for r in results[3:8:4]}
    assert len(suppliers) == 2


def test_an_unknown_customer_fails_every_row(uow) -> None:  # noqa: ANN001
    results = services.invite_many(uow, customer="PT Nobody", actor=f.ADMIN, via="cli",
                                   rows=[InviteRow(email="a@b.co.id", types="invoice")] * 2)
    assert all(isinstance(r.error, NotFound) for r in results)


def test_progress_is_reported_per_chunk(uow) -> None:  # noqa: ANN001
    f.companies(uow)
    done: list[int] = []
    rows = [InviteRow(email=f"sales{i}@supplier{i}.co.id", types="invoice") for i in range(7)]
    results = services.invite_many(uow, customer=f.CUSTOMER, actor=f.ADMIN, via="cli", rows=rows, chunk=3,
                                   progress=done.append)
    assert done == [3, 3, 1] and len({r.invitation_id for r in results}) == 7
