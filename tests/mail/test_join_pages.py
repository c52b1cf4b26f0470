"""The sign-up pages through the real ASGI app, on SQLite and PostgreSQL: the directory, the join
page and its form, the double opt-in link by real SMTP, rate limits, CSRF."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from tautan.core import services
from tautan.core.model import Event, Outbox
from tautan.mail.transport import SmtpTransport
from tautan.web import create_app
from tautan.worker import Worker
from tests.support import factories as f

BASE = "https://tautan.example.id"


@pytest.fixture
def web(container: Any) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url=BASE) as client:
        yield client


@pytest.fixture
def customer(container: Any) -> Any:
    f.companies(container.uow())
    services.create_company(container.uow(), name="Gudang Jakarta", parent=f.CUSTOMER, actor=f.ADMIN, via="cli")
    services.set_customer_profile(container.uow(), customer=f.CUSTOMER, listed=True, contact="ap@pelanggan.co.id",
                                  actor=f.ADMIN, via="cli")
    return container


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def form(**overrides: object) -> dict[str, object]:
    return {"supplier_name": "CV Baru Sekali", "email": "budi@cv-baru.co.id", "types": ["invoice", "order"],
            "consent": "yes", **overrides}


def events(container: Any, kind: str) -> list[dict[str, Any]]:
    with container.uow() as uow:
        return [dict(e.details, supplier=e.supplier.name if e.supplier else None) for e in uow.session.scalars(
            select(Event).where(Event.kind == kind).order_by(Event.id))]


def confirmations(container: Any) -> list[dict[str, Any]]:
    with container.uow() as uow:
        return [dict(o.payload, to=o.recipient, lang=o.lang) for o in uow.session.scalars(
            select(Outbox).where(Outbox.kind == "request_confirm").order_by(Outbox.id))]


def test_the_directory_lists_only_customers_that_chose_to(customer: Any, web: TestClient) -> None:
    services.create_company(customer.uow(), name="Toko Straße", actor=f.ADMIN, via="cli")
    services.create_company(customer.uow(), name="PT Pelanggan Rahasia", actor=f.ADMIN, via="cli")
    services.set_customer_profile(customer.uow(), customer="Toko Straße", listed=True, actor=f.ADMIN, via="cli")
    empty = web.get("/join")
    assert empty.status_code == 200 and "PT Pelanggan Jaya" not in empty.text
    found = web.get("/join", params={"q": "pelanggan"})
    assert "PT Pelanggan Jaya" in found.text and 'href="/join/pt-pelanggan-jaya"' in found.text
    assert "Rahasia" not in found.text
    assert 'href="/join/pt-pelanggan-jaya/gudang-jakarta"' in found.text
    assert "Toko Straße" in web.get("/join", params={"q": "STRASSE"}).text  # Unicode-safe, as elsewhere
    assert "Rahasia" not in web.get("/join", params={"q": "rahasia"}).text
    assert "<script>" not in web.get("/join", params={"q": "<script>"}).text


def test_the_join_page_shows_the_customer_and_unknown_ones_are_404(customer: Any, web: TestClient) -> None:
    page = web.get("/join/pt-pelanggan-jaya")
    assert page.status_code == 200
    assert "Connect with PT Pelanggan Jaya" in page.text and "request+pt-pelanggan-jaya@connect.example.id" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert "Gudang Jakarta" in web.get("/join/pt-pelanggan-jaya/gudang-jakarta").text
    for path in ("/join/nobody", "/join/pt-maju-bersama", "/join/pt-pelanggan-jaya/nowhere"):
        assert web.get(path).status_code == 404, path


def test_a_request_through_the_join_page_and_the_emailed_link(customer: Any, web: TestClient, smtp_sink: Any) -> None:
    token = csrf(web.get("/join/pt-pelanggan-jaya").text)
    sent = web.post("/join/pt-pelanggan-jaya", data={"csrf": token, **form(contact="ap@pelanggan.co.id")})
    assert sent.status_code == 200 and "budi@cv-baru.co.id" in sent.text, re.findall(r"role=\"alert\">.*", sent.text)
    assert services.search(customer.uow(), company=f.CUSTOMER).total == 0  # nothing before the link is opened
    Worker.from_container(customer, SmtpTransport(f"smtp://127.0.0.1:{smtp_sink[1]}", timeout=5)).run_once()
    (message,) = [m for m in smtp_sink[0].messages() if m["To"] == "budi@cv-baru.co.id"]
    link = re.search(rf"{re.escape(BASE)}(/j/\S+)", message.get_body(("plain",)).get_content()).group(1)

    shown = web.get(link)  # a mail scanner's GET changes nothing
    assert shown.status_code == 200 and "CV Baru Sekali" in shown.text
    assert services.search(customer.uow(), company=f.CUSTOMER).total == 0
    done = web.post(link, data={"csrf": csrf(shown.text)})
    assert done.status_code == 200, done.text
    requested = events(customer, "requested")
    assert {e["type"] for e in requested} == {"invoice", "order"}
    assert all(e["supplier"] == "CV Baru Sekali" and e["contact"] == "ap@pelanggan.co.id" for e in requested)
    assert web.get(link.replace("/j/", "/j/x")).status_code == 400


def test_the_form_refuses_bad_input_and_keeps_what_was_typed(customer: Any, web: TestClient) -> None:
    token = csrf(web.get("/join/pt-pelanggan-jaya").text)
    cases = [({"consent": ""}, "Please accept the terms"),
             ({"email": "not an address"}, "is not a valid email address"),
             ({"types": []}, "Choose at least one document type."),
             ({"supplier_name": "  "}, "company&#39;s name"),
             ({"contact": "someone@elsewhere.example"}, "We do not know someone@elsewhere.example"),
             ({"tax_id": "01.300.066.7-091.000"}, "check digit"),
             ({"peppol_id": "SG123"}, "is not a PEPPOL participant id")]
    for overrides, problem in cases:
        answer = web.post("/join/pt-pelanggan-jaya", data={"csrf": token, **form(**overrides)})
        assert answer.status_code == 400 and problem in answer.text, overrides
        assert "CV Baru Sekali" in answer.text or overrides.get("supplier_name") is not None
    assert confirmations(customer) == []
    # a colleague at the customer's domain is a fine contact
    assert web.post("/join/pt-pelanggan-jaya", data={"csrf": token, **form(contact="citra@pelanggan.co.id")}
                    ).status_code == 200


def test_the_form_needs_its_csrf_pair(customer: Any, web: TestClient) -> None:
    web.get("/join/pt-pelanggan-jaya")
    assert web.post("/join/pt-pelanggan-jaya", data=form()).status_code == 403
    assert web.post("/join/pt-pelanggan-jaya", data={"csrf": "forged", **form()}).status_code == 403
    assert confirmations(customer) == []


def test_rate_limits_per_address_domain_and_client(customer: Any, web: TestClient) -> None:
    token = csrf(web.get("/join/pt-pelanggan-jaya").text)
    post = lambda **o: web.post("/join/pt-pelanggan-jaya", data={"csrf": token, **form(**o)}).status_code  # noqa: E731
    assert [post() for _ in range(4)] == [200, 200, 200, 429]
    assert post(email="dewi@cv-baru.co.id") == 200
    assert post(email="eko@lain.example") == 200
    # the client: ten a day, whatever addresses it types
    assert [post(email=f"user{i}@many{i}.example") for i in range(6)] == [200] * 5 + [429]
    assert all(c["client"] == confirmations(customer)[0]["client"] for c in confirmations(customer))
    assert "testclient" not in str(confirmations(customer)[0])  # the client's address itself is not kept


def test_a_duplicate_npwp_on_the_form_is_flagged(customer: Any, web: TestClient) -> None:
    services.set_supplier_identity(customer.uow(), supplier=f.SUPPLIER, tax_id="013000666091000",
                                   actor=f.CONTACT, via="link")
    token = csrf(web.get("/join/pt-pelanggan-jaya").text)
    web.post("/join/pt-pelanggan-jaya", data={"csrf": token, **form(tax_id="01.300.066.6-091.000")})
    (confirmation,) = confirmations(customer)
    link = confirmation["link"].removeprefix(BASE)
    web.post(link, data={"csrf": csrf(web.get(link).text)})
    (flag,) = events(customer, "possible_duplicate")
    assert flag["duplicate_of"] == f.SUPPLIER and flag["supplier"] == "CV Baru Sekali"
