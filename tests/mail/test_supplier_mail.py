"""The supplier's mail through real SMTP: the customer's decisions (approved, denied with its
reason, invitation cancelled, disconnected with its reason) reach every contact in the contact's
language, threaded with the invitation; the sign-in link; STATUS and HELP to any of our addresses."""

from __future__ import annotations

import email
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import select

from tautan.core import services
from tautan.core.model import Inbox, Person
from tautan.core.transitions import Side
from tautan.mail.links import SUPPLIER_SIGN_IN, unsign
from tautan.mail.transport import SmtpTransport
from tautan.wiring import Container
from tautan.worker import Worker
from tests.support import MAIL_KEYS
from tests.support import factories as f
from tests.support.smtp import inbound_server

DOMAIN = "connect.example.id"
PAGE = "https://tautan.example.id/s"


@pytest.fixture
def worker(container: Container, smtp_sink) -> Worker:  # noqa: ANN001
    _, port = smtp_sink
    return Worker.from_container(container, SmtpTransport(f"smtp://127.0.0.1:{port}", timeout=5))


@pytest.fixture
def server(container: Container) -> Iterator[tuple[object, int]]:
    with inbound_server(container, domain=DOMAIN, max_recipients=3, max_size=200_000) as running:
        yield running


def delivered(sink) -> list[email.message.EmailMessage]:  # noqa: ANN001
    handler, _ = sink
    return handler.messages()


def text_of(message: email.message.EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def html_of(message: email.message.EmailMessage) -> str:
    return message.get_body(("html",)).get_content()  # type: ignore[union-attr]


def set_locale(container: Container, address: str, locale: str) -> None:
    with container.uow() as uow:
        person = uow.session.scalars(select(Person).where(Person.email == address)).one()
        person.locale = locale
        uow.session.commit()


def test_every_decision_reaches_the_supplier_in_its_language(container: Container, worker: Worker,
                                                             smtp_sink) -> None:  # noqa: ANN001
    uow = container.uow()
    f.companies(uow)
    invitation = f.invite(uow, types=("catalog",), lang="id")
    services.add_contact(uow, supplier_id=invitation.supplier_id, email="john@pt-maju.co.id", name="John",
                         actor=f.CONTACT, via="link", lang="en")
    set_locale(container, "john@pt-maju.co.id", "en")
    set_locale(container, f.EMAIL, "id")
    worker.run_once()  # the invitation and the colleague's welcome
    invitation_id = next(m["Message-ID"] for m in delivered(smtp_sink) if m["To"] == f.EMAIL)
    handler, _ = smtp_sink
    handler.received.clear()

    services.cancel(uow, invitation_id=invitation.id, actor=f.ADMIN, via="slack")
    invoice, order = (c.id for c in services.request(uow, supplier=f.SUPPLIER, customer=f.CUSTOMER,
                                                     types=["invoice", "order"], actor=f.CONTACT, via="email"))
    services.approve(uow, connection_id=invoice, actor=f.ADMIN, via="slack")
    services.deny(uow, connection_id=order, actor=f.ADMIN, via="slack", reason="Belum perlu pesanan.")
    services.disconnect(uow, connection_id=invoice, side=Side.CUSTOMER, actor=f.ADMIN, via="cli",
                        reason="Kontrak selesai.")
    report = worker.run_once()
    assert report.sent == 8

    mails = delivered(smtp_sink)
    indonesian = [m for m in mails if m["To"] == f.EMAIL]
    english = [m for m in mails if m["To"] == "john@pt-maju.co.id"]
    assert len(indonesian) == len(english) == 4
    assert [m["Content-Language"] for m in indonesian] == ["id"] * 4
    assert [m["Subject"] for m in english] == [
        "PT Pelanggan Jaya withdrew its invitation", "PT Pelanggan Jaya approved your request to connect",
        "PT Pelanggan Jaya declined your request to connect", "PT Pelanggan Jaya ended the connection"]
    for message in mails:
        assert message.get_content_type() == "multipart/alternative"
        assert PAGE in text_of(message) and PAGE in html_of(message)
        assert message["Auto-Submitted"] == "auto-generated"
    cancelled_en, approved_en, denied_en, ended_en = english
    assert cancelled_en["In-Reply-To"] == cancelled_en["References"] == invitation_id  # the same conversation
    assert "Reason given: Belum perlu pesanan." in text_of(denied_en)
    assert "Reason given: Kontrak selesai." in text_of(ended_en)
    assert f"{PAGE}/connections/{order}" in text_of(denied_en)  # the next step: ask again
    assert "/connections/" not in text_of(approved_en)
    denied_id = indonesian[2]
    assert "Alasan yang diberikan: Belum perlu pesanan." in text_of(denied_id)
    assert "PT Pelanggan Jaya menolak" in denied_id["Subject"]


def test_the_sign_in_email(container: Container, worker: Worker, smtp_sink) -> None:  # noqa: ANN001
    uow = container.uow()
    f.companies(uow)
    f.invite(uow, types=("invoice",), lang="id")
    assert services.request_sign_in(uow, email=f.EMAIL, client="127.0.0.1", lang="id")
    worker.run_once()
    message = next(m for m in delivered(smtp_sink) if m["Subject"] != "" and "/s/" in text_of(m))
    assert message["Content-Language"] == "id"
    link = next(word for word in text_of(message).split() if word.startswith(PAGE + "/"))
    assert unsign(MAIL_KEYS, SUPPLIER_SIGN_IN, link.rsplit("/", 1)[1])
    assert "30" in text_of(message)


def test_every_invitation_email_carries_the_supplier_page(container: Container, worker: Worker,
                                                          smtp_sink) -> None:  # noqa: ANN001
    uow = container.uow()
    f.companies(uow)
    invitation = f.invite(uow, types=("invoice",), lang="en")
    services.accept(uow, invitation_id=invitation.id, actor=f.CONTACT, via="email")
    worker.run_once()
    invitation_mail, confirmation = delivered(smtp_sink)
    for message in (invitation_mail, confirmation):
        assert PAGE in text_of(message) and f'href="{PAGE}"' in html_of(message)


def status_mail(sender: str, to: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "status"
    message["Message-ID"] = make_msgid(domain="pt-maju.co.id")
    message.set_content(body)
    return message


@pytest.mark.parametrize("to", [f"postmaster@{DOMAIN}", "request+pt-pelanggan-jaya@" + DOMAIN])
@pytest.mark.parametrize("word", ["STATUS", "BANTUAN"])
def test_status_or_help_to_any_of_our_addresses(container: Container, server, worker: Worker, smtp_sink,  # noqa: ANN001
                                               to: str, word: str) -> None:
    uow = container.uow()
    f.companies(uow)
    f.invite(uow, types=("order", "invoice"), lang="id")
    services.create_company(uow, name="PT Lain", roles=["supplier"], actor=f.ADMIN, via="cli")
    services.invite(uow, customer=f.CUSTOMER, email="budi@lain.example", types=["catalog"], actor=f.ADMIN,
                    via="slack", supplier_name="PT Lain")
    inbound, port = server
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail(f.EMAIL, [to], status_mail(f.EMAIL, to, word).as_bytes())
    inbound.process_pending()  # type: ignore[attr-defined]
    with container.uow() as reading:
        assert [r.outcome for r in reading.session.scalars(select(Inbox))] == ["status"]
    worker.run_once()
    (answer,) = [m for m in delivered(smtp_sink) if m["To"] == f.EMAIL and m["Auto-Submitted"] == "auto-replied"]
    body = text_of(answer)
    assert "PT Pelanggan Jaya" in body and PAGE in body
    assert "katalog" not in body.split("--")[0]  # another supplier's connection never shows


def test_a_request_still_waiting_is_told_once(container: Container, worker: Worker, smtp_sink,  # noqa: ANN001
                                             clock) -> None:  # noqa: ANN001
    uow = container.uow()
    f.companies(uow)
    f.invite(uow, types=("catalog",), lang="en")
    services.request(uow, supplier=f.SUPPLIER, customer=f.CUSTOMER, types=["invoice"], actor=f.CONTACT,
                     via="email")
    worker.run_once()
    handler, _ = smtp_sink
    handler.received.clear()
    clock.advance(days=8)
    worker.run_once()
    worker.run_once()
    waiting = [m for m in delivered(smtp_sink) if "still waiting" in m["Subject"]]
    assert len(waiting) == 1 and waiting[0]["To"] == f.EMAIL
    assert "still waiting for an answer" in text_of(waiting[0]) and PAGE in text_of(waiting[0])
