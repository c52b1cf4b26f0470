"""The use cases on a real database (SQLite and PostgreSQL), with an injected clock."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tautan.core import services
from tautan.core.errors import (
    AlreadyConnected,
    AlreadyRequested,
    InvalidInput,
    InvitationClosed,
    InvitationExpired,
    NotAllowed,
    NotFound,
)
from tautan.core.model import Company, Event, Invitation, Person, Role, Status
from tautan.core.transitions import Side
from tautan.core.views import EventView, event_view
from tests.support import factories as f


@pytest.fixture
def setup(uow):  # noqa: ANN001, ANN201
    f.companies(uow)
    return uow


def events(uow, **where) -> list[EventView]:  # noqa: ANN001
    with uow:
        query = select(Event).order_by(Event.id)
        for key, value in where.items():
            query = query.where(getattr(Event, key) == value)
        return [event_view(e) for e in uow.session.scalars(query)]


def test_invite_covers_several_types_and_writes_events(setup, clock) -> None:  # noqa: ANN001
    invitation = f.invite(setup, types=("order", "invoice"), message="Mohon bergabung 🙏", lang="id")
    assert invitation.created and invitation.status == "pending"
    assert set(invitation.types) == {"order", "invoice"}
    assert all(c.status == Status.INVITED for c in invitation.connections)
    assert invitation.email == "ana@pt-maju.co.id" and invitation.lang == "id"
    assert invitation.expires_at == clock.now + dt.timedelta(days=30)
    assert len(invitation.reply_token) == 32 and invitation.reply_token == invitation.reply_token.lower()
    assert invitation.message == "Mohon bergabung 🙏"
    kinds = [(e.kind, e.actor, e.via, e.details["type"]) for e in events(setup, invitation_id=invitation.id)]
    assert sorted(kinds) == [("invited", f.ADMIN, "slack", "invoice"), ("invited", f.ADMIN, "slack", "order")]


def test_the_inviter_as_the_supplier_reads_them_is_stored(setup) -> None:  # noqa: ANN001
    invitation = f.invite(setup, inviter_name="  Budi\nSantoso ", inviter_email=" Budi@Pelanggan.CO.ID")
    assert invitation.inviter == f.ADMIN  # the record of who acted is unchanged
    again = services.get_invitation(setup, invitation_id=invitation.id)
    assert (again.inviter_name, again.inviter_email) == ("Budi Santoso", "budi@pelanggan.co.id")


@pytest.mark.parametrize("email", ["  Ana@PT-Maju.CO.ID ", "ana@pt-maju.co.id"])
def test_email_is_normalized(setup, email: str) -> None:  # noqa: ANN001
    assert f.invite(setup, email=email).email == "ana@pt-maju.co.id"


@pytest.mark.parametrize("email", ["", "ana", "ana@", "@pt-maju.co.id", "ana@@x.id", "a b@x.id",
                                   "ana@pt-maju.co.id\r\nBcc: eve@evil.test", "<script>@x.id"])
def test_bad_email_is_a_user_error_and_writes_nothing(setup, email: str) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput) as raised:
        f.invite(setup, email=email)
    assert raised.value.message_id == "{email} is not a valid email address."
    assert not events(setup, kind="invited")


def test_unknown_type_customer_and_unit_are_user_errors(setup) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput) as raised:
        f.invite(setup, types=("invoice", "receipt"))
    assert raised.value.params["type"] == "receipt"
    assert raised.value.params["known"] == ["catalog", "order", "invoice"]
    with pytest.raises(NotFound):
        f.invite(setup, customer="Nobody Ltd")
    with pytest.raises(NotFound):
        f.invite(setup, unit="Nowhere")
    with pytest.raises(InvalidInput):
        f.invite(setup, types=())
    with pytest.raises(InvalidInput):
        f.invite(setup, customer=f.SUPPLIER)  # a supplier-only company does not invite
    assert not events(setup, kind="invited")


def test_inviting_again_while_live_returns_the_live_invitation(setup) -> None:  # noqa: ANN001
    first = f.invite(setup, types=("invoice",))
    again = f.invite(setup, types=("invoice",))
    assert again.id == first.id and again.created is False and again.added_types == ()
    wider = f.invite(setup, types=("invoice", "order"))
    assert wider.id == first.id and wider.added_types == ("order",)
    assert set(wider.types) == {"invoice", "order"}
    with setup:
        assert setup.session.scalar(select(func.count()).select_from(Invitation)) == 1


def test_inviting_a_connected_supplier_is_a_clear_error(setup) -> None:  # noqa: ANN001
    invitation = f.invite(setup, types=("invoice",))
    services.accept(setup, invitation_id=invitation.id, actor=f.CONTACT, via="email")
    with pytest.raises(AlreadyConnected) as raised:
        f.invite(setup, types=("order", "invoice"))
    assert raised.value.params["types"] == ["invoice"]
    assert raised.value.params["supplier"] == f.SUPPLIER
    # the other type was not invited either: the whole call changed nothing
    assert len(events(setup, kind="invited")) == 1


def test_inviting_a_supplier_who_asked_says_approve(setup) -> None:  # noqa: ANN001
    services.request(setup, supplier=f.SUPPLIER, customer=f.CUSTOMER, types=["order"], actor=f.CONTACT,
                     via="email")
    with pytest.raises(AlreadyRequested):
        f.invite(setup, types=("order",))


def test_accept_connects_every_type_once(setup) -> None:  # noqa: ANN001
    invitation = f.invite(setup, types=("order", "invoice"))
    accepted = services.accept(setup, reply_token=invitation.reply_token.upper(), actor=f.CONTACT, via="email")
    assert accepted.status == "accepted" and {c.status for c in accepted.connections} == {"connected"}
    with pytest.raises(InvitationClosed):
        services.accept(setup, invitation_id=invitation.id, actor=f.CONTACT, via="email")
    with pytest.raises(InvitationClosed):
        services.decline(setup, invitation_id=invitation.id, actor=f.CONTACT, via="email")
    assert len(events(setup, kind="accepted")) == 2


def test_decline_then_invite_again(setup) -> None:  # noqa: ANN001
    first = f.invite(setup)
    services.decline(setup, invitation_id=first.id, actor=f.CONTACT, via="link")
    second = f.invite(setup)
    assert second.id != first.id and second.created
    assert second.connections[0].id == first.connections[0].id  # the same connection, invited again


def test_expiry_with_the_injected_clock(setup, clock) -> None:  # noqa: ANN001
    invitation = f.invite(setup, types=("order", "invoice"))
    clock.advance(days=29, hours=23)
    assert services.expire(setup) == []
    clock.advance(hours=1)
    with pytest.raises(InvitationExpired):
        services.accept(setup, invitation_id=invitation.id, actor=f.CONTACT, via="email")
    expired = services.expire(setup)
    assert len(expired) == 2
    assert services.expire(setup) == []  # nothing twice
    assert services.get_invitation(setup, invitation_id=invitation.id).status == "expired"
    assert {e.actor for e in events(setup, kind="expired")} == {"system"}
    # an expired invitation can be replaced
    assert f.invite(setup).created


def test_reinvite_after_the_date_but_before_the_worker_expired_it(setup, clock) -> None:  # noqa: ANN001
    first = f.invite(setup)
    clock.advance(days=31)
    second = f.invite(setup)
    assert second.id != first.id
    assert services.get_invitation(setup, invitation_id=first.id).status == "expired"


def test_requests_approve_deny_and_expire(setup, clock) -> None:  # noqa: ANN001
    [order] = services.request(setup, supplier=f.SUPPLIER, customer=f.CUSTOMER, types=["order"],
                               actor=f.CONTACT, via="email")
    assert order.status == "requested"
    assert services.approve(setup, connection_id=order.id, actor=f.ADMIN, via="slack").status == "connected"
    [invoice] = services.request(setup, supplier=f.SUPPLIER, customer=f.CUSTOMER, types=["invoice"],
                                 actor=f.CONTACT, via="email")
    assert services.deny(setup, connection_id=invoice.id, actor=f.ADMIN, via="slack").status == "rejected"
    [catalog] = services.request(setup, supplier=f.SUPPLIER, customer=f.CUSTOMER, types=["catalog"],
                                 actor=f.CONTACT, via="email")
    clock.advance(days=31)
    assert services.expire(setup) == [catalog.id]
    [again] = services.request(setup, supplier=f.SUPPLIER, customer=f.CUSTOMER, types=["catalog"],
                               actor=f.CONTACT, via="email")
    assert again.id == catalog.id and again.status == "requested"
    assert services.cancel_request(setup, connection_id=again.id, actor=f.CONTACT, via="email").status == "cancelled"
    with pytest.raises(NotAllowed):  # the system does not end connections
        services.disconnect(setup, connection_id=order.id, side=Side.SYSTEM, actor="system", via="system")


def test_disconnect_by_either_side(setup) -> None:  # noqa: ANN001
    invitation = f.invite(setup, types=("order", "invoice"))
    services.accept(setup, invitation_id=invitation.id, actor=f.CONTACT, via="email")
    order, invoice = invitation.connections
    assert services.disconnect(setup, connection_id=order.id, side=Side.CUSTOMER, actor=f.ADMIN,
                               via="slack").status == "disconnected"
    assert services.disconnect(setup, connection_id=invoice.id, side=Side.SUPPLIER, actor=f.CONTACT,
                               via="email").status == "disconnected"
    with pytest.raises(NotFound):
        services.disconnect(setup, connection_id=999_999, side=Side.CUSTOMER, actor=f.ADMIN, via="slack")


def test_units_invite_on_their_own(setup) -> None:  # noqa: ANN001
    services.create_company(setup, name="Keuangan", parent=f.CUSTOMER, actor=f.ADMIN, via="cli")
    services.create_company(setup, name="Logistik", parent=f.CUSTOMER, actor=f.ADMIN, via="cli")
    by_unit = f.invite(setup, unit="keuangan")
    by_other = f.invite(setup, unit="Logistik")
    assert by_unit.id != by_other.id
    assert by_unit.customer == "PT Pelanggan Jaya / Keuangan" and by_unit.unit == "Keuangan"
    everything = services.search(setup, company=f.CUSTOMER)
    assert everything.total == 2
    assert services.search(setup, company=f.CUSTOMER, unit="Keuangan").total == 1
    with pytest.raises(InvalidInput):  # units have no units
        services.create_company(setup, name="Sub", parent=_id_of(setup, "Keuangan"), actor=f.ADMIN, via="cli")


def _id_of(uow, name: str) -> int:  # noqa: ANN001
    with uow:
        return uow.session.scalar(select(Company.id).where(Company.name == name))


def test_company_names_are_unique_among_siblings(setup) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput):
        services.create_company(setup, name="pt  PELANGGAN jaya", actor=f.ADMIN, via="cli")
    services.create_company(setup, name="Keuangan", parent=f.CUSTOMER, actor=f.ADMIN, via="cli")
    services.create_company(setup, name="Keuangan", roles=[Role.SUPPLIER], actor=f.ADMIN, via="cli")
    for bad in ["", "   ", "x" * 201, "Evil\x00Inc", "Bell\x07"]:
        with pytest.raises(InvalidInput):
            services.create_company(setup, name=bad, actor=f.ADMIN, via="cli")
    # line breaks never survive into a name (names end up in mail headers)
    assert services.create_company(setup, name="Evil\r\nBcc: x", actor=f.ADMIN, via="cli").name == "Evil Bcc: x"


def test_a_new_supplier_is_made_from_the_address_and_reused(setup) -> None:  # noqa: ANN001
    first = services.invite(setup, customer=f.CUSTOMER, email="budi@toko-budi.id", types=["order"],
                            actor=f.ADMIN, via="cli")
    assert first.supplier == "budi@toko-budi.id" and first.lang == "id"
    services.create_company(setup, name="PT Kedua", actor=f.ADMIN, via="cli")
    second = services.invite(setup, customer="PT Kedua", email="BUDI@toko-budi.id", types=["order"],
                             actor=f.ADMIN, via="cli")
    assert second.supplier_id == first.supplier_id  # one supplier, known to the whole network
    with setup:
        assert setup.session.scalar(select(func.count()).select_from(Person)) == 1
    assert services.invite(setup, customer=f.CUSTOMER, email="x@example.com", types=["order"],
                           actor=f.ADMIN, via="cli").lang == "en"


def test_a_company_cannot_invite_itself(setup) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput):
        f.invite(setup, supplier_name=f.CUSTOMER)


def test_message_and_language_are_checked(setup) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput):
        f.invite(setup, message="x" * 2001)
    with pytest.raises(InvalidInput):
        f.invite(setup, lang="fr")
    assert f.invite(setup, message="  \r\n ").message is None
    assert f.invite(setup, lang="id-ID", types=("order",)).lang in ("id", "en")


def test_history_lists_who_did_what_through_what(setup) -> None:  # noqa: ANN001
    invitation = f.invite(setup)
    services.accept(setup, invitation_id=invitation.id, actor=f.CONTACT, via="link")
    history = services.history(setup, invitation_id=invitation.id)
    assert [(e.kind, e.actor, e.via) for e in history] == [("invited", f.ADMIN, "slack"),
                                                           ("accepted", f.CONTACT, "link")]
    assert history[1].details == {"type": "invoice", "previous": "invited", "status": "connected"}
    assert services.history(setup, connection_id=invitation.connections[0].id) == history
    with pytest.raises(NotFound):
        services.history(setup, invitation_id=12345)


# --- search ----------------------------------------------------------------------------------

@pytest.fixture
def network(setup, clock):  # noqa: ANN001, ANN201
    names = ["PT Maju Jaya", "CV MAJU Terus", "Ümit Tekstil", "Straße GmbH", "PT Sinar_Abadi", "100% Kopi",
             "Toko Ibu Ani"]
    for i, name in enumerate(names):
        clock.advance(minutes=1)
        services.invite(setup, customer=f.CUSTOMER, email=f"c{i}@s{i}.co.id", supplier_name=name,
                        types=["invoice", "order"] if i % 2 else ["invoice"], actor=f.ADMIN, via="cli")
    return setup


@pytest.mark.parametrize(("text", "expected"), [
    ("maju", {"PT Maju Jaya", "CV MAJU Terus"}),
    ("MAJU", {"PT Maju Jaya", "CV MAJU Terus"}),
    ("ümit", {"Ümit Tekstil"}),
    ("ÜMIT", {"Ümit Tekstil"}),
    ("strasse", {"Straße GmbH"}),  # case folding, not just lower()
    ("_", {"PT Sinar_Abadi"}),  # LIKE wildcards are literal
    ("100%", {"100% Kopi"}),
    ("%", {"100% Kopi"}),
    ("tidak ada", set()),
])
def test_search_by_partner_is_case_insensitive_and_unicode_safe(network, text, expected) -> None:  # noqa: ANN001
    found = services.search(network, company=f.CUSTOMER, partner=text)
    assert {c.supplier for c in found.items} == expected


def test_search_filters_pages_and_orders(network, clock) -> None:  # noqa: ANN001
    everything = services.search(network, company=f.CUSTOMER)
    assert everything.total == 10
    stamps = [(c.updated_at, c.id) for c in everything.items]
    assert stamps == sorted(stamps, reverse=True)
    pages = [services.search(network, company=f.CUSTOMER, page=p, per_page=3) for p in (1, 2, 3, 4)]
    assert [len(p.items) for p in pages] == [3, 3, 3, 1] and pages[0].pages == 4 and not pages[3].has_next
    assert [c.id for p in pages for c in p.items] == [c.id for c in everything.items]
    assert services.search(network, company=f.CUSTOMER, types=["order"]).total == 3
    first = everything.items[-1]
    services.accept(network, invitation_id=first.invitation_id, actor=f.CONTACT, via="email")
    assert services.search(network, company=f.CUSTOMER, statuses=["connected"]).total == 1
    assert services.search(network, company=f.CUSTOMER, statuses=["connected", "invited"]).total == 10
    with pytest.raises(InvalidInput):
        services.search(network, company=f.CUSTOMER, statuses=["bogus"])
    with pytest.raises(InvalidInput):
        services.search(network, company=f.CUSTOMER, page=0)


def test_search_from_the_supplier_side(network) -> None:  # noqa: ANN001
    services.create_company(network, name="PT Lain", actor=f.ADMIN, via="cli")
    services.invite(network, customer="PT Lain", email="c0@s0.co.id", types=["order"], actor=f.ADMIN, via="cli")
    seen = services.search(network, company="PT Maju Jaya", side=Side.SUPPLIER)
    assert {c.customer for c in seen.items} == {f.CUSTOMER, "PT Lain"}
    assert services.search(network, company="PT Maju Jaya", side=Side.SUPPLIER, partner="lain").total == 1
    # the operator's view sees all, and its partner filter looks at both sides
    assert services.search(network).total == 11
    assert services.search(network, partner="lain").total == 1
