"""The supplier page through the real ASGI app on SQLite and PostgreSQL: signing in by email
(single use, 30 minutes, rate limits, no enumeration), the connections grouped by customer with
filters and paging, every supplier action and every refusal (another company's connection, a
missing CSRF field, an action the transition table does not allow), and the contacts."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from tautan.core import services
from tautan.core.model import Connection, Event, Outbox, Role, Status
from tautan.core.uow import UnitOfWork
from tautan.mail.links import SUPPLIER_SIGN_IN, sign
from tautan.settings import Settings
from tautan.web import create_app
from tautan.wiring import Container
from tests.support import FakeClock
from tests.support import factories as f
from tests.support.supplier import ask_for_link, csrf_of, last_sign_in_nonce, link_for, sign_in

KEYS = ("k1",)
BASE = "http://testserver"


@pytest.fixture
def container(engine: Engine, database_url: str, clock: FakeClock) -> Iterator[Container]:
    built = Container(Settings(database_url=database_url, secret_keys=KEYS, public_base_url=BASE), clock=clock)
    yield built
    built.close()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as client:
        yield client


def signed_in(client: TestClient, engine: Engine, email: str = f.EMAIL) -> TestClient:
    sign_in(client, engine, KEYS, BASE, email)
    return client


def status_of(engine: Engine, connection_id: int) -> str:
    with Session(engine) as session:
        connection = session.get(Connection, connection_id)
        assert connection is not None
        return connection.status


def event_kinds(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(Event.kind).order_by(Event.id)))


def outbox(engine: Engine, channel: str) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(Outbox.kind).where(Outbox.channel == channel).order_by(Outbox.id)))


def page_csrf(client: TestClient, path: str = "/s/connections") -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return csrf_of(response.text)


def lead(html: str) -> str:
    found = re.search(r'<p class="lead">(.*?)</p>', html, re.S)
    assert found, html
    return found.group(1)


def act(client: TestClient, connection_id: int, action: str, **extra: str) -> object:
    return client.post(f"/s/connections/{connection_id}",
                       data={"csrf": page_csrf(client), "action": action, **extra}, follow_redirects=False)


# --- signing in --------------------------------------------------------------------------------

def test_the_same_answer_for_known_and_unknown_addresses(client: TestClient, uow: UnitOfWork,
                                                         engine: Engine) -> None:
    f.companies(uow)
    f.invite(uow, types=("invoice",))
    form = client.get("/s")
    assert form.status_code == 200 and 'type="email"' in form.text and 'name="csrf"' in form.text

    known = ask_for_link(client, f.EMAIL)
    unknown = ask_for_link(client, "nobody@example.com")

    assert known.replace(f.EMAIL, "X") == unknown.replace("nobody@example.com", "X")
    assert "Check your inbox" in known
    assert last_sign_in_nonce(engine, f.EMAIL) and last_sign_in_nonce(engine, "nobody@example.com") is None
    assert outbox(engine, "email").count("sign_in") == 1


def test_an_invalid_address_is_said_plainly(client: TestClient) -> None:
    csrf = csrf_of(client.get("/s").text)
    response = client.post("/s", data={"csrf": csrf, "email": "not an address"})
    assert response.status_code == 400 and "is not a valid email address" in response.text
    assert 'value="not an address"' in response.text


def test_sign_in_needs_the_csrf_pair(client: TestClient, engine: Engine) -> None:
    response = client.post("/s", data={"email": f.EMAIL})
    assert response.status_code == 403 and last_sign_in_nonce(engine, f.EMAIL) is None


def test_rate_limit_per_address(client: TestClient, uow: UnitOfWork, engine: Engine, clock: FakeClock) -> None:
    f.companies(uow)
    f.invite(uow)
    for _ in range(3):
        ask_for_link(client, f.EMAIL)
    csrf = csrf_of(client.get("/s").text)
    refused = client.post("/s", data={"csrf": csrf, "email": f.EMAIL})
    other = client.post("/s", data={"csrf": csrf, "email": "someone@else.example"})

    assert refused.status_code == 429 and "Too many attempts" in refused.text
    assert other.status_code == 200  # the limit is the address's, not everyone's
    assert outbox(engine, "email").count("sign_in") == 3
    clock.advance(minutes=16)
    assert client.post("/s", data={"csrf": csrf, "email": f.EMAIL}).status_code == 200


def test_rate_limit_per_client(client: TestClient) -> None:
    csrf = csrf_of(client.get("/s").text)
    for n in range(10):
        assert client.post("/s", data={"csrf": csrf, "email": f"a{n}@example.com"}).status_code == 200
    refused = client.post("/s", data={"csrf": csrf, "email": "fresh@example.com"})
    assert refused.status_code == 429


def test_the_link_shows_a_button_then_opens_a_session(client: TestClient, uow: UnitOfWork,
                                                       engine: Engine) -> None:
    f.companies(uow)
    f.invite(uow)
    ask_for_link(client, f.EMAIL)
    url = link_for(engine, KEYS, BASE, f.EMAIL)

    page = client.get(url)  # a mail scanner opening the link uses nothing up
    again = client.get(url)
    assert page.status_code == again.status_code == 200 and f.EMAIL in page.text
    response = client.post(url, data={"csrf": csrf_of(page.text)}, follow_redirects=False)

    assert response.status_code == 303 and response.headers["location"] == "/s/connections"
    (cookie,) = [c for c in response.headers.get_list("set-cookie") if c.startswith("tautan_supplier=")]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/s" in cookie and "Max-Age=43200" in cookie
    assert "signed_in" in event_kinds(engine)
    assert client.get("/s/connections").status_code == 200


def test_a_used_link_is_refused_with_a_way_forward(client: TestClient, uow: UnitOfWork, engine: Engine) -> None:
    f.companies(uow)
    f.invite(uow)
    signed_in(client, engine)
    url = link_for(engine, KEYS, BASE, f.EMAIL)
    client.cookies.clear()

    response = client.get(url)
    assert response.status_code == 410 and "already been used" in response.text and 'href="/s"' in response.text
    posted = client.post(url, data={"csrf": "x"})
    assert posted.status_code in (403, 410)
    assert client.get("/s/connections").status_code == 401


def test_an_expired_link_is_refused(client: TestClient, uow: UnitOfWork, engine: Engine, clock: FakeClock) -> None:
    f.companies(uow)
    f.invite(uow)
    ask_for_link(client, f.EMAIL)
    url = link_for(engine, KEYS, BASE, f.EMAIL)
    clock.advance(minutes=31)
    response = client.get(url, headers={"accept-language": "id"})
    assert response.status_code == 410 and '<html lang="id">' in response.text
    assert "Tautan ini sudah kedaluwarsa" in response.text


def test_a_tampered_or_foreign_link_is_refused(client: TestClient, uow: UnitOfWork, engine: Engine) -> None:
    f.companies(uow)
    f.invite(uow)
    ask_for_link(client, f.EMAIL)
    url = link_for(engine, KEYS, BASE, f.EMAIL)
    assert client.get(url[:-3] + "abc").status_code == 410
    assert client.get("/s/" + sign(("other-key",), SUPPLIER_SIGN_IN, last_sign_in_nonce(engine, f.EMAIL))
                      ).status_code == 410
    assert client.get("/s/" + sign(KEYS, SUPPLIER_SIGN_IN, "made-up-nonce")).status_code == 410


def test_the_session_expires_and_sign_out_ends_it(client: TestClient, uow: UnitOfWork, engine: Engine,
                                                   clock: FakeClock) -> None:
    f.companies(uow)
    f.invite(uow)
    signed_in(client, engine)
    csrf = page_csrf(client)
    assert client.post("/s/sign-out", data={}).status_code == 403  # no CSRF: still signed in
    assert client.get("/s/connections").status_code == 200
    response = client.post("/s/sign-out", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/s"
    assert client.get("/s/connections").status_code == 401

    signed_in(client, engine)
    clock.advance(hours=12, minutes=1)
    expired = client.get("/s/connections")
    assert expired.status_code == 401 and "Please sign in" in expired.text


def test_a_forged_session_cookie_is_refused(client: TestClient, uow: UnitOfWork) -> None:
    f.companies(uow)
    client.cookies.set("tautan_supplier", "1.2.3", path="/s")
    assert client.get("/s/connections").status_code == 401


# --- the connections -------------------------------------------------------------------------

def test_connections_grouped_by_customer_with_people_not_ids(client: TestClient, uow: UnitOfWork,
                                                             engine: Engine) -> None:
    f.companies(uow)
    f.invite(uow, types=("catalog", "invoice"))
    services.create_company(uow, name="PT Lain", roles=[Role.SUPPLIER], actor=f.ADMIN, via="cli")
    services.invite(uow, customer=f.CUSTOMER, email="budi@lain.example", types=["order"], actor=f.ADMIN,
                    via="slack", supplier_name="PT Lain")
    html = signed_in(client, engine).get("/s/connections").text

    assert html.count("<h2") == 1 and f.CUSTOMER in html
    assert "catalog" in html and "invoice" in html and "invited" in html
    assert "an administrator of PT Pelanggan Jaya" in html
    assert "slack:" not in html and "email:" not in html
    assert "PT Lain" not in html and "<span class=\"type\">order" not in html  # never another supplier's row
    assert html.count('value="accept"') == 2 and html.count('value="decline"') == 2
    assert '<a href="/join/pt-pelanggan-jaya">Join page of PT Pelanggan Jaya</a>' in html  # to ask for more


def test_filters_and_paging_are_query_parameters(client: TestClient, uow: UnitOfWork, engine: Engine,
                                                 clock: FakeClock) -> None:
    f.companies(uow)
    f.invite(uow, types=("invoice",))
    for n in range(22):
        services.create_company(uow, name=f"Toko {n:02d}", roles=[Role.CUSTOMER], actor=f.ADMIN, via="cli")
        clock.advance(minutes=1)
        services.request(uow, supplier=f.SUPPLIER, customer=f"Toko {n:02d}", types=["order"], actor=f.CONTACT,
                         via="email")
    signed_in(client, engine)

    first = client.get("/s/connections").text
    assert first.count("<h2") == 20 and "Toko 21" in first and "Page 1 of 2" in first and "page=2" in first
    second = client.get("/s/connections?page=2").text
    assert second.count("<h2") == 3 and f.CUSTOMER in second
    by_name = client.get("/s/connections?customer=toko%2007").text
    assert by_name.count("<h2") == 1 and "Toko 07" in by_name
    by_status = client.get("/s/connections?status=invited").text
    assert by_status.count("<h2") == 1 and f.CUSTOMER in by_status
    by_type = client.get("/s/connections?type=order&status=requested&customer=Toko").text
    assert by_type.count("<h2") == 20 and 'value="order" selected' in by_type
    none = client.get("/s/connections?customer=zzz").text
    assert "No connections match these filters." in none
    junk = client.get("/s/connections?status=nonsense&type=x&page=abc")
    assert junk.status_code == 200


def test_accept_one_type_of_two_then_decline_the_other(client: TestClient, uow: UnitOfWork,
                                                       engine: Engine) -> None:
    f.companies(uow, notices=True)
    invitation = f.invite(uow, types=("catalog", "invoice"))
    catalog, invoice = (c.id for c in invitation.connections)
    signed_in(client, engine)

    assert act(client, invoice, "accept").status_code == 303
    assert (status_of(engine, catalog), status_of(engine, invoice)) == ("invited", "connected")
    assert services.get_invitation(uow, invitation_id=invitation.id).status == "pending"

    confirm = act(client, catalog, "decline")
    assert confirm.status_code == 200 and "Decline the invitation of PT Pelanggan Jaya for catalog?" in confirm.text
    assert status_of(engine, catalog) == "invited"  # asking is not deciding
    done = act(client, catalog, "decline", confirm="yes")
    assert done.status_code == 303
    assert status_of(engine, catalog) == "rejected"
    assert services.get_invitation(uow, invitation_id=invitation.id).status == "accepted"
    assert outbox(engine, "slack").count("accepted") == 1 and outbox(engine, "slack").count("declined") == 1


def test_reconnect_after_a_rejection(client: TestClient, uow: UnitOfWork, engine: Engine, clock: FakeClock) -> None:
    f.companies(uow, notices=True)
    connection_id = f.connection_in(uow, clock, Status.REJECTED)
    assert connection_id is not None
    signed_in(client, engine)
    assert 'value="request"' in client.get("/s/connections").text

    assert act(client, connection_id, "request").status_code == 303
    assert status_of(engine, connection_id) == "requested"
    assert outbox(engine, "slack")[-1] == "requested"  # the customer's admins hear, with Approve/Deny


def test_withdraw_a_request(client: TestClient, uow: UnitOfWork, engine: Engine, clock: FakeClock) -> None:
    f.companies(uow, notices=True)
    f.invite(uow, types=("order",))  # makes the address a contact of the supplier
    connection_id = f.connection_in(uow, clock, Status.REQUESTED)
    assert connection_id is not None
    signed_in(client, engine)
    assert act(client, connection_id, "cancel").status_code == 200  # the confirmation
    assert act(client, connection_id, "cancel", confirm="yes").status_code == 303
    assert status_of(engine, connection_id) == "cancelled"
    assert event_kinds(engine)[-1] == "withdrawn" and outbox(engine, "slack")[-1] == "withdrawn"


def test_disconnect_with_a_reason(client: TestClient, uow: UnitOfWork, engine: Engine, clock: FakeClock) -> None:
    f.companies(uow, notices=True)
    connection_id = f.connection_in(uow, clock, Status.CONNECTED)
    assert connection_id is not None
    signed_in(client, engine)
    confirm = act(client, connection_id, "disconnect")
    assert confirm.status_code == 200 and 'name="reason"' in confirm.text
    assert act(client, connection_id, "disconnect", confirm="yes", reason="Kami tutup cabang ini.").status_code == 303
    assert status_of(engine, connection_id) == "disconnected"
    history = client.get(f"/s/connections/{connection_id}").text
    assert "Kami tutup cabang ini." in history and "disconnected" in history and f.EMAIL in history
    assert "email:" not in history and "slack:" not in history
    assert outbox(engine, "slack")[-1] == "disconnected"


def test_another_companys_connection_is_refused_like_a_missing_one(client: TestClient, uow: UnitOfWork,
                                                                   engine: Engine) -> None:
    f.companies(uow)
    f.invite(uow)
    services.create_company(uow, name="PT Lain", roles=[Role.SUPPLIER], actor=f.ADMIN, via="cli")
    foreign = services.invite(uow, customer=f.CUSTOMER, email="budi@lain.example", types=["order"], actor=f.ADMIN,
                              via="slack", supplier_name="PT Lain").connections[0].id
    with Session(engine) as session:
        missing = (session.scalar(select(func.max(Connection.id))) or 0) + 1000
    signed_in(client, engine)

    for verb in ("accept", "decline"):
        theirs, nobodys = act(client, foreign, verb, confirm="yes"), act(client, missing, verb, confirm="yes")
        assert theirs.status_code == nobodys.status_code == 404
        assert lead(theirs.text).replace(str(foreign), "N") == lead(nobodys.text).replace(str(missing), "N")
    shown, absent = client.get(f"/s/connections/{foreign}"), client.get(f"/s/connections/{missing}")
    assert shown.status_code == absent.status_code == 404
    assert "PT Lain" not in shown.text and "budi@" not in shown.text
    assert status_of(engine, foreign) == "invited"


def test_a_missing_csrf_field_changes_nothing(client: TestClient, uow: UnitOfWork, engine: Engine) -> None:
    f.companies(uow)
    connection_id = f.invite(uow).connections[0].id
    signed_in(client, engine)
    before = event_kinds(engine)
    response = client.post(f"/s/connections/{connection_id}", data={"action": "accept"})
    forged = client.post(f"/s/connections/{connection_id}", data={"action": "accept", "csrf": "forged"})
    assert response.status_code == forged.status_code == 403
    assert status_of(engine, connection_id) == "invited" and event_kinds(engine) == before


def test_an_action_the_table_does_not_allow(client: TestClient, uow: UnitOfWork, engine: Engine) -> None:
    f.companies(uow)
    connection_id = f.invite(uow).connections[0].id
    signed_in(client, engine)
    before = event_kinds(engine)
    for action in ("disconnect", "request", "cancel"):
        response = act(client, connection_id, action, confirm="yes")
        assert response.status_code == 400 and ("You cannot" in response.text or "Only the" in response.text), action
    assert act(client, connection_id, "approve").status_code == 400  # the customer's action, not ours
    assert act(client, connection_id, "explode").status_code == 400
    assert status_of(engine, connection_id) == "invited" and event_kinds(engine) == before


def test_the_page_speaks_indonesian(client: TestClient, uow: UnitOfWork, engine: Engine) -> None:
    f.companies(uow)
    f.invite(uow)
    signed_in(client, engine)
    html = client.get("/s/connections?lang=id").text
    assert '<html lang="id">' in html and "Koneksi pelanggan" in html and "Setuju" in html


# --- contacts ----------------------------------------------------------------------------------

def test_contacts_add_and_remove_but_never_the_last(client: TestClient, uow: UnitOfWork, engine: Engine) -> None:
    f.companies(uow)
    f.invite(uow)
    signed_in(client, engine)
    page = client.get("/s/contacts")
    assert page.status_code == 200 and f.EMAIL in page.text and "The last contact cannot be removed." in page.text
    assert "/remove" not in page.text

    csrf = csrf_of(page.text)
    added = client.post("/s/contacts", data={"csrf": csrf, "email": "Budi@PT-Maju.co.id", "name": "Budi"},
                        follow_redirects=False)
    assert added.status_code == 303
    assert "contact_added" in outbox(engine, "email") and "contact_added" in event_kinds(engine)
    again = client.post("/s/contacts", data={"csrf": csrf, "email": "budi@pt-maju.co.id"})
    assert again.status_code == 400 and "already a contact" in again.text
    bad = client.post("/s/contacts", data={"csrf": csrf, "email": "nonsense"})
    assert bad.status_code == 400 and 'value="nonsense"' in bad.text

    people = client.get("/s/contacts").text
    assert len(re.findall(r"/s/contacts/(\d+)/remove", people)) == 2

    # The colleague can sign in on their own.
    other = TestClient(client.app)
    sign_in(other, engine, KEYS, BASE, "budi@pt-maju.co.id")
    assert f.CUSTOMER in other.get("/s/connections").text

    # Removing the colleague signs them out at once.
    found = re.search(r"budi@pt-maju\.co\.id</span>\s*<form method=\"post\" action=\"/s/contacts/(\d+)/remove", people)
    assert found, people
    budi_id = found.group(1)
    assert client.post(f"/s/contacts/{budi_id}/remove", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert other.get("/s/connections").status_code == 401
    assert "contact_removed" in event_kinds(engine)
    assert "/remove" not in client.get("/s/contacts").text


def test_removing_the_last_contact_is_refused(client: TestClient, uow: UnitOfWork, engine: Engine) -> None:
    f.companies(uow)
    f.invite(uow)
    signed_in(client, engine)
    with Session(engine) as session:
        from tautan.core.model import Person

        me = session.scalars(select(Person.id).where(Person.email == f.EMAIL)).one()
    response = client.post(f"/s/contacts/{me}/remove", data={"csrf": page_csrf(client, "/s/contacts")})
    assert response.status_code == 400 and "last contact" in response.text
