"""Sign-up without impersonation, whole conversations: real SMTP in and out, the signed pages
through the ASGI app, the admins' notice read back from the events."""

from __future__ import annotations

import re
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from tautan.bot.notify import notice_message
from tautan.core import services
from tautan.core.i18n import translator
from tautan.core.model import Company, Event, Inbox
from tautan.core.queries import notice as load_notice
from tautan.mail.transport import SmtpTransport
from tautan.web import create_app
from tautan.worker import Worker
from tests.support import factories as f
from tests.support.smtp import inbound_server

DOMAIN = "connect.example.id"


@pytest.fixture
def server(container: Any) -> Iterator[tuple[Any, int]]:
    with inbound_server(container, domain=DOMAIN, max_recipients=3, max_size=200_000) as running:
        yield running


@pytest.fixture
def worker(container: Any, smtp_sink: Any) -> Worker:
    return Worker.from_container(container, SmtpTransport(f"smtp://127.0.0.1:{smtp_sink[1]}", timeout=5))


@pytest.fixture
def web(container: Any) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="https://tautan.example.id") as client:
        yield client


def mail(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    message.set_content(body)
    return message


def send(port: int, message: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail(str(message["From"]), [str(message["To"])], message.as_bytes())


def outcomes(container: Any) -> list[str | None]:
    with container.uow() as uow:
        return list(uow.session.scalars(select(Inbox.outcome).order_by(Inbox.id)))


def test_the_impersonation_attempt_ends_with_a_new_company_and_a_warning(  # noqa: PLR0913
        container: Any, server: tuple[Any, int], worker: Worker, smtp_sink: Any, web: TestClient) -> None:
    inbound, port = server
    uow = container.uow
    f.companies(uow())
    invitation = f.invite(uow(), types=("order",))
    services.accept(uow(), invitation_id=invitation.id, actor=f.CONTACT, via="email")  # pt-maju.co.id verified

    # mallory writes to the request address and gets the confirmation link in her own mailbox
    send(port, mail("mallory@evil.example", f"request+pt-pelanggan-jaya@{DOMAIN}", "Connect", "Please connect us"))
    inbound.process_pending()
    assert outcomes(container) == ["request_confirmation_sent"]
    worker.run_once()
    confirm = next(m for m in smtp_sink[0].messages() if m["To"] == "mallory@evil.example")
    link = re.search(r"https://tautan\.example\.id(/r/\S+)", confirm.get_body(("plain",)).get_content()).group(1)

    # she opens it and types the genuine supplier's name
    page = web.get(link)
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    sent = web.post(link, data={"csrf": csrf, "types": "invoice", "supplier_name": f.SUPPLIER})
    assert sent.status_code == 200, sent.text

    with container.uow() as session_uow:
        session = session_uow.session
        names = list(session.scalars(select(Company.name).where(Company.name.like("PT Maju%")).order_by(Company.id)))
        event = session.scalars(select(Event).where(Event.kind == "requested")).one()
        event_id, supplier = event.id, event.supplier.name
    assert names == [f.SUPPLIER, f"{f.SUPPLIER} (2)"]
    assert supplier == f"{f.SUPPLIER} (2)"

    notice = load_notice(uow(), [event_id])
    assert notice is not None and notice.similar_to == f.SUPPLIER
    for lang, warning in (("en", "already exists"), ("id", "sudah ada")):
        text, blocks = notice_message(notice, translator(lang))
        shown = str(blocks)
        assert f"*{f.SUPPLIER} (2)*" in text
        assert warning in shown and f"*{f.SUPPLIER}*" in shown and "mallory@evil.example" in shown


def test_a_neighbour_at_a_shared_mail_provider_cannot_answer(
        container: Any, server: tuple[Any, int], worker: Worker, smtp_sink: Any) -> None:
    inbound, port = server
    f.companies(container.uow())
    invited = f.invite(container.uow(), email="maju.bersama@gmail.com")
    to = f"connect+{invited.reply_token}@{DOMAIN}"
    send(port, mail("stranger@gmail.com", to, "Re: invitation", "Setuju"))
    inbound.process_pending()
    assert outcomes(container) == ["other_sender"]
    assert services.get_invitation(container.uow(), invitation_id=invited.id).status == "pending"
    # at a company's own domain a colleague still may
    colleague = f.invite(container.uow(), email="faktur@pt-maju.co.id", customer=f.CUSTOMER, types=("order",),
                         supplier_name="PT Maju Lain")
    send(port, mail("ana@pt-maju.co.id", f"connect+{colleague.reply_token}@{DOMAIN}", "Re: invitation", "Setuju"))
    inbound.process_pending()
    assert outcomes(container)[-1] == "accepted"


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", ["How to send your documents to PT Pelanggan Jaya:",
            "Send each invoice through PEPPOL to participant id 0195:id123.",
            "Send each order by email to order@pelanggan.co.id.", "Quote the PO number.",
            "Questions? Contact ap@pelanggan.co.id."]),
    ("id", ["Cara mengirim dokumen Anda kepada PT Pelanggan Jaya:",
            "Kirim setiap faktur melalui PEPPOL ke ID peserta 0195:id123.", "Sebutkan nomor PO.",
            "Ada pertanyaan? Hubungi ap@pelanggan.co.id."]),
])
def test_the_confirmation_email_says_how_to_send_documents(container: Any, worker: Worker, smtp_sink: Any,
                                                            lang: str, expected: list[str]) -> None:
    uow = container.uow
    f.companies(uow())
    services.set_customer_profile(uow(), customer=f.CUSTOMER, peppol_id="0195:ID123",
                                  invoice_email="order@pelanggan.co.id", receive={"order": "email"},
                                  contact="ap@pelanggan.co.id", instructions="Quote the PO number.", lang="en",
                                  actor=f.ADMIN, via="cli")
    services.set_customer_profile(uow(), customer=f.CUSTOMER, instructions="Sebutkan nomor PO.", lang="id",
                                  actor=f.ADMIN, via="cli")
    invitation = f.invite(uow(), types=("invoice", "order"), lang=lang)
    services.accept(uow(), invitation_id=invitation.id, actor=f.CONTACT, via="email")
    worker.run_once()
    (confirmation,) = [m for m in smtp_sink[0].messages() if m["Content-Language"] == lang
                       and "PT Pelanggan Jaya" in str(m["Subject"]) and "order" not in str(m["Subject"])
                       and m.get_body(("plain",)).get_content().count("PEPPOL")]
    text = confirmation.get_body(("plain",)).get_content()
    html = confirmation.get_body(("html",)).get_content()
    for line in expected:
        assert line in text and line in html.replace("&#39;", "'"), line
    assert "Nothing else is needed" not in text and "Tidak ada lagi" not in text


@pytest.mark.parametrize(("email", "expected"), [
    ("sales@maju-trading.example", ["How to send your documents to PT Pelanggan Jaya:",
                                    "Send each invoice through PEPPOL to participant id 0195:id123.",
                                    "Questions? Contact ap@pelanggan.co.id."]),
    ("ana@pt-maju.co.id", ["Cara mengirim dokumen Anda kepada PT Pelanggan Jaya:",
                           "Kirim setiap faktur melalui PEPPOL ke ID peserta 0195:id123.",
                           "Ada pertanyaan? Hubungi ap@pelanggan.co.id."]),
])
def test_the_email_after_a_request_is_approved_says_how_to_send_documents(
        container: Any, worker: Worker, smtp_sink: Any, email: str, expected: list[str]) -> None:
    """Connected by an approved request, not an accepted invitation: the news says the same as the
    confirmation of an accepted invitation, in the contact's language (that of its invitation)."""
    uow = container.uow
    f.companies(uow())
    services.set_customer_profile(uow(), customer=f.CUSTOMER, peppol_id="0195:ID123", contact="ap@pelanggan.co.id",
                                  actor=f.ADMIN, via="cli")
    f.invite(uow(), types=("catalog",), email=email)  # a contact, who reads in its invitation's language
    (request,) = services.request(uow(), supplier=f.SUPPLIER, customer=f.CUSTOMER, types=["invoice"],
                                  actor=f.CONTACT, via="email")
    worker.run_once()
    before = len(smtp_sink[0].messages())
    services.approve(uow(), connection_id=request.id, actor=f.ADMIN, via="slack")
    worker.run_once()
    (approved,) = smtp_sink[0].messages()[before:]
    text = approved.get_body(("plain",)).get_content()
    html = approved.get_body(("html",)).get_content()
    for line in expected:
        assert line in text and line in html.replace("&#39;", "'"), line


def test_without_onboarding_information_the_email_says_whom_to_contact(container: Any, worker: Worker,
                                                                        smtp_sink: Any) -> None:
    f.companies(container.uow())
    invitation = f.invite(container.uow(), lang="id")
    services.accept(container.uow(), invitation_id=invitation.id, actor=f.CONTACT, via="email")
    worker.run_once()
    texts = [m.get_body(("plain",)).get_content() for m in smtp_sink[0].messages()]
    (text,) = [x for x in texts if "belum menentukan" in x]
    assert "PT Pelanggan Jaya belum menentukan cara penerimaan dokumen." in text
    assert "Silakan tanyakan kepada kontak Anda di PT Pelanggan Jaya cara mengirimnya." in text


def test_the_invitation_email_shows_the_customers_join_page(container: Any, worker: Worker, smtp_sink: Any) -> None:
    f.companies(container.uow())
    services.create_company(container.uow(), name="Gudang Jakarta", parent=f.CUSTOMER, actor=f.ADMIN, via="cli")
    f.invite(container.uow(), unit="Gudang Jakarta", lang="id")
    worker.run_once()
    (message,) = smtp_sink[0].messages()
    url = "https://tautan.example.id/join/pt-pelanggan-jaya/gudang-jakarta"
    assert f"Halaman PT Pelanggan Jaya / Gudang Jakarta di Tautan: {url}" in message.get_body(("plain",)).get_content()
    assert f'href="{url}"' in message.get_body(("html",)).get_content()


def test_after_accepting_the_page_shows_onboarding_and_asks_for_the_identity_once(
        container: Any, web: TestClient) -> None:
    from tautan.mail.links import invitation_url

    uow = container.uow
    f.companies(uow())
    services.set_customer_profile(uow(), customer=f.CUSTOMER, peppol_id="0195:ID123", actor=f.ADMIN, via="cli")
    services.create_company(uow(), name="CV Kembar", roles=["supplier"], actor=f.ADMIN, via="cli")
    services.set_supplier_identity(uow(), supplier="CV Kembar", peppol_id="0088:5798000000001", actor=f.ADMIN,
                                   via="cli")
    invitation = f.invite(uow(), types=("invoice",), lang="en")
    link = invitation_url("https://tautan.example.id", container.settings.secret_keys, invitation.id,
                          invitation.reply_token).removeprefix("https://tautan.example.id")
    token = re.search(r'name="csrf" value="([^"]+)"', web.get(link).text).group(1)
    assert web.post(link, data={"csrf": token, "action": "accept"}).status_code == 200  # redirected to the result
    page = web.get(link).text
    assert "Send each invoice through PEPPOL to participant id 0195:id123." in page
    assert "Tell PT Pelanggan Jaya who you are" in page
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    bad = web.post(f"{link}/identity", data={"csrf": token, "tax_id": "01.300.066.7-091.000", "legal_name": "PT X"})
    assert bad.status_code == 400 and "check digit" in bad.text and 'value="PT X"' in bad.text
    assert web.post(f"{link}/identity", data={"legal_name": "PT X"}).status_code == 403  # CSRF
    done = web.post(f"{link}/identity", data={"csrf": token, "legal_name": "PT Maju Bersama Tbk",
                                              "tax_id": "01.300.066.6-091.000", "peppol_id": "0088:5798000000001"})
    assert done.status_code == 200
    identity = services.supplier_identity(uow(), f.SUPPLIER)
    assert (identity.legal_name, identity.tax_id, identity.duplicate_of) == (
        "PT Maju Bersama Tbk", "01.300.066.6-091.000", "CV Kembar")
    with container.uow() as session_uow:
        flagged = session_uow.session.scalars(select(Event).where(Event.kind == "possible_duplicate")).one()
        assert flagged.customer.name == f.CUSTOMER and flagged.details["duplicate_of"] == "CV Kembar"
    after = web.get(link).text
    assert "Tell PT Pelanggan Jaya who you are" not in after and "01.300.066.6-091.000" in after
