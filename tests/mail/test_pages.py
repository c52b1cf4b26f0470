"""The signed-link pages and the health checks, through the real ASGI app (Starlette's TestClient)
on SQLite and on PostgreSQL: a GET never changes anything, every POST needs the CSRF pair, every
answer is written once, every page speaks the reader's language."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from tautan.core import services
from tautan.core.errors import Suppressed
from tautan.core.i18n import translator
from tautan.core.uow import UnitOfWork
from tautan.core.views import InvitationView
from tautan.mail.links import INVITATION_PAGE, UNSUBSCRIBE, invitation_url, sign, unsubscribe_url
from tautan.settings import Settings
from tautan.web import create_app
from tautan.wiring import Container
from tests.support import FakeClock, factories, free_port

KEYS = ("k1",)
BASE = "http://testserver"


# --- fixtures and helpers --------------------------------------------------------------------

def make_container(database_url: str, clock: FakeClock, keys: tuple[str, ...] = KEYS) -> Container:
    return Container(Settings(database_url=database_url, secret_keys=keys, public_base_url=BASE), clock=clock)


@pytest.fixture
def container(engine: Engine, database_url: str, clock: FakeClock) -> Iterator[Container]:
    container = make_container(database_url, clock)
    yield container
    container.close()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as client:
        yield client


def invite(uow: UnitOfWork, types: tuple[str, ...] = ("catalog", "invoice"), **kwargs: object) -> InvitationView:
    factories.companies(uow)
    kwargs.setdefault("lang", "en")
    return factories.invite(uow, types=types, **kwargs)


def page_url(invitation: InvitationView, keys: tuple[str, ...] = KEYS) -> str:
    return invitation_url(BASE, keys, invitation.id, invitation.reply_token)


def unsubscribe_link(invitation: InvitationView) -> str:
    return unsubscribe_url(BASE, KEYS, invitation.id, invitation.reply_token)


def csrf_field(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def open_form(client: TestClient, url: str) -> str:
    """GET the page (which sets the CSRF cookie) and return its CSRF field."""
    response = client.get(url)
    assert response.status_code == 200, response.text
    return csrf_field(response.text)


def kinds(uow: UnitOfWork, invitation: InvitationView) -> Counter[str]:
    return Counter(e.kind for e in services.history(uow, invitation_id=invitation.id))


def current(uow: UnitOfWork, invitation: InvitationView) -> InvitationView:
    return services.get_invitation(uow, invitation_id=invitation.id)


def snapshot(uow: UnitOfWork, invitation: InvitationView) -> tuple[object, ...]:
    """Everything a page could change: statuses, answers, events."""
    view = current(uow, invitation)
    events = [(e.kind, e.actor, e.via) for e in services.history(uow, invitation_id=invitation.id)]
    return view.status, view.closed_at, tuple(c.status for c in view.connections), tuple(events)


# --- showing an invitation -------------------------------------------------------------------

def test_get_shows_the_invitation_and_changes_nothing(client: TestClient, uow: UnitOfWork) -> None:
    invitation = invite(uow, message="Kami ingin menerima faktur Anda secara elektronik.")
    before = snapshot(uow, invitation)

    response = client.get(page_url(invitation))
    again = client.get(page_url(invitation))
    head = client.head(page_url(invitation))

    assert response.status_code == again.status_code == head.status_code == 200
    html = response.text
    assert '<html lang="en">' in html
    for text in (factories.CUSTOMER, factories.SUPPLIER, factories.EMAIL, "catalog and invoice",
                 "waiting for an answer", "April 1, 2026",
                 "Kami ingin menerima faktur Anda secara elektronik.",
                 'value="accept"', 'value="decline"', ">Accept<", ">Decline<", 'href="/u/'):
        assert text in html, text
    assert snapshot(uow, invitation) == before
    assert current(uow, invitation).status == "pending"


def test_pages_send_security_headers_and_a_strict_csrf_cookie(client: TestClient, uow: UnitOfWork) -> None:
    response = client.get(page_url(invite(uow)))

    csp = response.headers["content-security-policy"]
    for directive in ("default-src 'none'", "style-src 'unsafe-inline'", "form-action 'self'",
                      "frame-ancestors 'none'"):
        assert directive in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("text/html")
    (cookie,) = [c for c in response.headers.get_list("set-cookie") if c.startswith("csrf_")]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/i/" in cookie
    assert '<meta name="viewport"' in response.text and "<script" not in response.text


def test_the_inviting_unit_is_shown(client: TestClient, uow: UnitOfWork) -> None:
    factories.companies(uow)
    services.create_company(uow, name="Gudang Surabaya", parent=factories.CUSTOMER, actor=factories.ADMIN,
                            via="cli")
    invitation = factories.invite(uow, types=("order",), unit="Gudang Surabaya", lang="en")

    html = client.get(page_url(invitation)).text

    assert "Unit" in html and "Gudang Surabaya" in html and "order" in html


def test_the_message_is_escaped(client: TestClient, uow: UnitOfWork) -> None:
    invitation = invite(uow, message="<script>alert(1)</script>")

    html = client.get(page_url(invitation)).text

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


# --- answering -------------------------------------------------------------------------------

def test_accept_connects_and_redirects_to_the_result(client: TestClient, uow: UnitOfWork) -> None:
    invitation = invite(uow)
    csrf = open_form(client, page_url(invitation))

    response = client.post(page_url(invitation), data={"action": "accept", "csrf": csrf}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == page_url(invitation).removeprefix(BASE)
    view = current(uow, invitation)
    assert view.status == "accepted"
    assert {c.status for c in view.connections} == {"connected"}
    accepted = [e for e in services.history(uow, invitation_id=invitation.id) if e.kind == "accepted"]
    assert len(accepted) == 2
    assert {(e.actor, e.via) for e in accepted} == {(f"email:{factories.EMAIL}", "link")}

    result = client.get(response.headers["location"])
    assert result.status_code == 200
    assert f"You are now connected with {factories.CUSTOMER} for these documents: catalog and invoice." in result.text
    assert "What happens next" in result.text
    assert f"please contact {factories.CUSTOMER} directly" in result.text  # a Slack inviter has no address here
    # no answer buttons any more; the only form left is the identity one (issue 12)
    assert 'value="accept"' not in result.text and 'value="decline"' not in result.text
    assert result.text.count("<form") == 1 and "/identity\"" in result.text


def test_decline_asks_first_then_declines(client: TestClient, uow: UnitOfWork) -> None:
    invitation = invite(uow)
    csrf = open_form(client, page_url(invitation))
    before = snapshot(uow, invitation)

    asked = client.post(page_url(invitation), data={"action": "decline", "csrf": csrf})

    assert asked.status_code == 200
    assert f"Decline the invitation from {factories.CUSTOMER}?" in asked.text
    assert 'name="confirm" value="yes"' in asked.text and "Back to the invitation" in asked.text
    assert snapshot(uow, invitation) == before  # nothing changed yet

    response = client.post(page_url(invitation), data={"action": "decline", "confirm": "yes",
                                                       "csrf": csrf_field(asked.text)})

    assert response.status_code == 200  # after the redirect
    assert f"You declined the invitation from {factories.CUSTOMER} on March 2, 2026." in response.text
    view = current(uow, invitation)
    assert view.status == "declined"
    assert {c.status for c in view.connections} == {"rejected"}
    assert kinds(uow, invitation)["declined"] == 2


def test_an_unknown_action_changes_nothing(client: TestClient, uow: UnitOfWork) -> None:
    invitation = invite(uow)
    csrf = open_form(client, page_url(invitation))
    before = snapshot(uow, invitation)

    response = client.post(page_url(invitation), data={"action": "approve", "csrf": csrf})

    assert response.status_code == 400
    assert "Choose Accept or Decline." in response.text
    assert snapshot(uow, invitation) == before


@pytest.mark.parametrize("case", ["no field", "no cookie", "other nonce", "other invitation", "garbage"])
def test_without_a_matching_csrf_pair_nothing_changes(client: TestClient, uow: UnitOfWork, case: str) -> None:
    invitation = invite(uow)
    csrf = open_form(client, page_url(invitation))
    data = {"action": "accept", "csrf": csrf}
    if case == "no field":
        del data["csrf"]
    elif case == "no cookie":
        client.cookies.clear()
    elif case == "other nonce":
        data["csrf"] = sign(KEYS, "tautan.csrf", [invitation.id, "A" * 32])
    elif case == "other invitation":
        cookie = client.cookies[f"csrf_{invitation.id}"]
        data["csrf"] = sign(KEYS, "tautan.csrf", [invitation.id + 1, cookie])
    else:
        data["csrf"] = "not-a-token"
    before = snapshot(uow, invitation)

    response = client.post(page_url(invitation), data=data, follow_redirects=False)

    assert response.status_code == 403
    assert "Please try again" in response.text and "Open the page again" in response.text
    assert snapshot(uow, invitation) == before


def test_a_second_answer_changes_nothing_and_shows_what_happened(client: TestClient, uow: UnitOfWork,
                                                                 clock: FakeClock) -> None:
    invitation = invite(uow)
    csrf = open_form(client, page_url(invitation))
    client.post(page_url(invitation), data={"action": "accept", "csrf": csrf})
    after_first = snapshot(uow, invitation)
    clock.advance(hours=2)

    for action in ("accept", "decline"):
        response = client.post(page_url(invitation), data={"action": action, "csrf": csrf}, follow_redirects=False)
        assert response.status_code == 409
        assert "Invitation accepted" in response.text
        assert "You accepted this invitation on March 2, 2026." in response.text
        assert 'value="accept"' not in response.text

    assert snapshot(uow, invitation) == after_first
    accepted = Counter(e.connection_id for e in services.history(uow, invitation_id=invitation.id)
                       if e.kind == "accepted")
    assert sorted(accepted.values()) == [1, 1]


def test_a_cancelled_invitation_says_so_without_buttons(client: TestClient, uow: UnitOfWork) -> None:
    invitation = invite(uow)
    services.cancel(uow, invitation_id=invitation.id, actor=factories.ADMIN, via="slack")

    response = client.get(page_url(invitation))

    assert response.status_code == 200
    assert f"{factories.CUSTOMER} withdrew this invitation on March 2, 2026." in response.text
    assert "<form" not in response.text


def test_an_undeliverable_invitation_is_shown_as_live(client: TestClient, uow: UnitOfWork) -> None:
    invitation = invite(uow)
    services.mark_undeliverable(uow, invitation_id=invitation.id, reason="550 no such user", actor="system",
                                via="email")

    html = client.get(page_url(invitation)).text

    assert 'value="accept"' in html and "waiting for an answer" in html


def test_an_undeliverable_invitation_can_be_accepted(client: TestClient, uow: UnitOfWork) -> None:
    invitation = invite(uow)
    services.mark_undeliverable(uow, invitation_id=invitation.id, reason="550 no such user", actor="system",
                                via="email")
    csrf = open_form(client, page_url(invitation))

    response = client.post(page_url(invitation), data={"action": "accept", "csrf": csrf})

    assert "You are now connected" in response.text
    assert current(uow, invitation).status == "accepted"


def test_a_system_error_is_an_apology_not_a_traceback(client: TestClient, uow: UnitOfWork,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    invitation = invite(uow)
    csrf = open_form(client, page_url(invitation))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services, "accept", broken)
    response = client.post(page_url(invitation), data={"action": "accept", "csrf": csrf})

    assert response.status_code == 500
    assert "Something went wrong on our side. Please try again later." in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert current(uow, invitation).status == "pending"


# --- bad links -------------------------------------------------------------------------------

def test_a_tampered_token_is_refused(client: TestClient, uow: UnitOfWork) -> None:
    invitation = invite(uow)
    url = page_url(invitation)
    tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    before = snapshot(uow, invitation)

    for bad in (tampered, f"{BASE}/i/nonsense", unsubscribe_link(invitation).replace("/u/", "/i/")):
        response = client.get(bad)
        assert response.status_code == 400, bad
        assert "This link is not valid" in response.text
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert client.post(bad, data={"action": "accept"}).status_code == 400

    assert snapshot(uow, invitation) == before


def test_a_link_for_another_reply_token_or_no_invitation(client: TestClient, uow: UnitOfWork) -> None:
    invitation = invite(uow)
    wrong_reply_token = f"{BASE}/i/{sign(KEYS, INVITATION_PAGE, [invitation.id, '0' * 32])}"
    missing = f"{BASE}/i/{sign(KEYS, INVITATION_PAGE, [invitation.id + 1000, invitation.reply_token])}"

    assert client.get(wrong_reply_token).status_code == 400
    response = client.get(missing)
    assert response.status_code == 404
    assert "Not found" in response.text and "Traceback" not in response.text


def test_a_link_signed_with_the_previous_key_still_works(engine: Engine, database_url: str,
                                                         clock: FakeClock, uow: UnitOfWork) -> None:
    invitation = invite(uow)
    old_link = page_url(invitation, keys=("old",))
    container = make_container(database_url, clock, keys=("new", "old"))
    try:
        with TestClient(create_app(container)) as client:
            csrf = open_form(client, old_link)
            response = client.post(old_link, data={"action": "accept", "csrf": csrf})
            assert "You are now connected" in response.text
            assert client.get(page_url(invitation, keys=("retired",))).status_code == 400
    finally:
        container.close()
    assert current(uow, invitation).status == "accepted"


# --- expiry and renewal ----------------------------------------------------------------------

def test_an_expired_invitation_offers_a_renewal_once(client: TestClient, uow: UnitOfWork,
                                                     clock: FakeClock) -> None:
    invitation = invite(uow)
    clock.advance(days=31)
    before = snapshot(uow, invitation)

    response = client.get(page_url(invitation))

    assert response.status_code == 200
    assert "This invitation has expired" in response.text
    assert "expired on April 1, 2026" in response.text
    assert "Ask for a new invitation" in response.text and 'value="accept"' not in response.text
    assert snapshot(uow, invitation) == before  # the page does not expire it either

    csrf = csrf_field(response.text)
    refused = client.post(page_url(invitation), data={"action": "accept", "csrf": csrf})
    assert refused.status_code == 410 and "This invitation has expired" in refused.text
    assert snapshot(uow, invitation) == before

    for _ in range(2):
        renewed = client.post(page_url(invitation) + "/renew", data={"csrf": csrf})
        assert renewed.status_code == 200
        assert f"We have told {factories.CUSTOMER} that you would like a new invitation." in renewed.text
        assert "You asked on Apr 2, 2026." in renewed.text  # the day of the first request, not of this one
        clock.advance(hours=2)
    again = client.get(page_url(invitation))
    assert f"You asked {factories.CUSTOMER} for a new invitation on Apr 2, 2026." in again.text
    assert kinds(uow, invitation)["renewal_requested"] == 1
    assert current(uow, invitation).status == "pending"


def test_an_invitation_the_worker_expired_shows_the_expired_page(client: TestClient, uow: UnitOfWork,
                                                                 clock: FakeClock) -> None:
    invitation = invite(uow)
    clock.advance(days=31)
    services.expire(uow)
    csrf = open_form(client, page_url(invitation))

    refused = client.post(page_url(invitation), data={"action": "accept", "csrf": csrf})
    renewed = client.post(page_url(invitation) + "/renew", data={"csrf": csrf})

    assert "Ask for a new invitation" in refused.text and refused.status_code == 409
    assert current(uow, invitation).status == "expired"
    assert renewed.status_code == 200 and kinds(uow, invitation)["renewal_requested"] == 1


def test_renewal_needs_csrf_and_an_expired_invitation(client: TestClient, uow: UnitOfWork,
                                                      clock: FakeClock) -> None:
    invitation = invite(uow)
    csrf = open_form(client, page_url(invitation))

    live = client.post(page_url(invitation) + "/renew", data={"csrf": csrf})
    clock.advance(days=31)
    forged = client.post(page_url(invitation) + "/renew", data={})

    assert live.status_code == 400 and "Only an expired invitation can be renewed." in live.text
    assert forged.status_code == 403
    assert kinds(uow, invitation)["renewal_requested"] == 0


# --- language --------------------------------------------------------------------------------

def indonesian(text: str, **params: object) -> str:
    return translator("id")(text, **params)


def test_indonesian_from_the_invitation(client: TestClient, uow: UnitOfWork) -> None:
    invitation = invite(uow, types=("invoice",), lang="id")

    html = client.get(page_url(invitation)).text

    assert '<html lang="id">' in html
    assert indonesian("invoice") != "invoice" and indonesian("invoice") in html
    assert indonesian("waiting for an answer") in html
    assert translator("id").date(invitation.expires_at) in html


def test_the_invitation_language_beats_the_browser(client: TestClient, uow: UnitOfWork) -> None:
    """An Indonesian invitation opened on a phone set to English stays Indonesian."""
    indonesian_invitation = invite(uow, types=("invoice",), lang="id")
    english_phone = {"Accept-Language": "en-US,en;q=0.9"}

    assert '<html lang="id">' in client.get(page_url(indonesian_invitation), headers=english_phone).text


def test_page_language_order(client: TestClient, uow: UnitOfWork) -> None:
    """?lang, then the EN|ID cookie, then the invitation's language, then Accept-Language."""
    invitation = invite(uow, types=("invoice",), lang="id")
    url, browser_en = page_url(invitation), {"Accept-Language": "en"}

    assert '<html lang="en">' in client.get(url + "?lang=en", headers={"Accept-Language": "id"}).text
    client.cookies.clear()
    client.cookies.set("lang", "en")
    assert '<html lang="en">' in client.get(url, headers={"Accept-Language": "id"}).text
    client.cookies.clear()
    assert '<html lang="id">' in client.get(url, headers=browser_en).text
    # Where no invitation is known (a bad link), the browser's first tag we speak decides.
    assert '<html lang="id">' in client.get(f"{BASE}/i/nonsense", headers={"Accept-Language": "id-ID,en"}).text
    assert '<html lang="en">' in client.get(f"{BASE}/i/nonsense", headers={"Accept-Language": "fr-FR,id"}).text


@pytest.mark.parametrize("lang", ["en", "id"])
def test_unknown_paths_get_a_branded_bilingual_404(client: TestClient, lang: str) -> None:
    response = client.get(f"{BASE}/nowhere/at/all", headers={"Accept-Language": lang})

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    t, other = translator(lang), translator("id" if lang == "en" else "en")
    assert f'<html lang="{lang}">' in response.text
    assert t("Page not found") in response.text and other("Page not found") in response.text
    assert "Tautan" in response.text and "Not Found" not in response.text
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_root_says_what_tautan_is(client: TestClient, lang: str) -> None:
    response = client.get(f"{BASE}/?lang={lang}")

    assert response.status_code == 200
    t, other = translator(lang), translator("id" if lang == "en" else "en")
    assert t("What is Tautan?") in response.text and other("What is Tautan?") in response.text
    assert t("It costs suppliers nothing.") in response.text or "gratis" in response.text


def test_the_language_switch_wins_and_is_remembered(client: TestClient, uow: UnitOfWork) -> None:
    invitation = invite(uow, types=("invoice",), lang="en")
    english_browser = {"Accept-Language": "en-US,en;q=0.9"}

    switched = client.get(page_url(invitation) + "?lang=id", headers=english_browser)
    remembered = client.get(page_url(invitation), headers=english_browser)
    back = client.get(page_url(invitation) + "?lang=en", headers={"Accept-Language": "id"})

    assert '<html lang="id">' in switched.text and indonesian("invoice") in switched.text
    assert "?lang=en" in switched.text and "?lang=id" in switched.text
    assert '<html lang="id">' in remembered.text
    assert '<html lang="en">' in back.text


def test_error_pages_are_localized_too(client: TestClient) -> None:
    response = client.get(f"{BASE}/i/nonsense?lang=id")

    assert response.status_code == 400
    assert '<html lang="id">' in response.text
    assert indonesian("This link is not valid") in response.text


# --- unsubscribe -----------------------------------------------------------------------------

def test_unsubscribe_get_asks_and_changes_nothing(client: TestClient, uow: UnitOfWork) -> None:
    invitation = invite(uow)
    before = snapshot(uow, invitation)

    response = client.get(unsubscribe_link(invitation))

    assert response.status_code == 200
    assert f"Stop invitations from {factories.CUSTOMER}?" in response.text
    (cookie,) = [c for c in response.headers.get_list("set-cookie") if c.startswith("csrf_")]
    assert "Path=/u/" in cookie and "SameSite=strict" in cookie
    assert snapshot(uow, invitation) == before
    factories.invite(uow, types=("order",))  # not suppressed


def test_unsubscribe_post_suppresses_the_customer(client: TestClient, uow: UnitOfWork) -> None:
    invitation = invite(uow)
    csrf = open_form(client, unsubscribe_link(invitation))

    forged = client.post(unsubscribe_link(invitation), data={})
    assert forged.status_code == 403 and kinds(uow, invitation)["unsubscribed"] == 0

    response = client.post(unsubscribe_link(invitation), data={"csrf": csrf})
    again = client.post(unsubscribe_link(invitation), data={"csrf": csrf})

    assert response.status_code == again.status_code == 200
    assert "Invitations stopped" in response.text and "You asked on Mar 2, 2026." in response.text
    assert kinds(uow, invitation)["unsubscribed"] == 1
    with pytest.raises(Suppressed):
        factories.invite(uow, types=("order",))


def test_one_click_unsubscribe_needs_no_cookie(client: TestClient, uow: UnitOfWork) -> None:
    invitation = invite(uow)

    response = client.post(unsubscribe_link(invitation), data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    (event,) = [e for e in services.history(uow, invitation_id=invitation.id) if e.kind == "unsubscribed"]
    assert event.via == "email"
    with pytest.raises(Suppressed):
        factories.invite(uow, types=("order",))


def test_an_unsubscribe_token_is_not_an_invitation_token(client: TestClient, uow: UnitOfWork) -> None:
    invitation = invite(uow)
    token = sign(KEYS, UNSUBSCRIBE, [invitation.id, invitation.reply_token])

    assert client.get(f"{BASE}/i/{token}").status_code == 400
    assert client.get(page_url(invitation).replace("/i/", "/u/")).status_code == 400


# --- health ----------------------------------------------------------------------------------

def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").text == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_readyz_and_pages_when_the_database_is_down(clock: FakeClock) -> None:
    down = make_container(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x", clock)
    token = sign(KEYS, INVITATION_PAGE, [1, "0" * 32])
    try:
        with TestClient(create_app(down)) as client:
            assert client.get("/healthz").status_code == 200
            assert client.get("/readyz").status_code == 503
            page = client.get(f"/i/{token}", headers={"Accept-Language": "id"})
    finally:
        down.close()
    assert page.status_code == 503
    assert '<html lang="id">' in page.text
    assert "Traceback" not in page.text and "psycopg" not in page.text
