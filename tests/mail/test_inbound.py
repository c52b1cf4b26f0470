"""Inbound mail, whole conversations over real SMTP: ``smtplib`` talks to tautan's own aiosmtpd
server on a free port; answers and confirmations go out through the worker to a relay sink."""

from __future__ import annotations

import csv
import email
import re
import smtplib
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from tautan.core import inbox, services
from tautan.core.model import Inbox, InboxStatus
from tautan.core.uow import UnitOfWork
from tautan.mail.inbound import Envelope, parse_recipient
from tautan.mail.links import SUPPLIER_REQUEST, unsign
from tautan.mail.smtp import InboundHandler, make_controller
from tautan.mail.transport import SmtpTransport
from tautan.settings import Settings
from tautan.wiring import Container
from tautan.worker import Worker
from tests.support import certificate, free_port
from tests.support import factories as f
from tests.support.smtp import inbound_server

DOMAIN = "connect.example.id"




@pytest.fixture
def server(container):  # noqa: ANN001, ANN201
    """tautan's SMTP server on a free port; processing is run by the test, step by step."""
    with inbound_server(container, domain=DOMAIN, max_recipients=3, max_size=200_000) as running:
        yield running


@pytest.fixture
def worker(container, smtp_sink):  # noqa: ANN001, ANN201
    _, port = smtp_sink
    return Worker.from_container(container, SmtpTransport(f"smtp://127.0.0.1:{port}", timeout=5))


def reply(invitation, body: str, *, sender: str = "ana@pt-maju.co.id", subject: str | None = None,  # noqa: ANN001
          headers: dict[str, str] | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Ana <{sender}>"
    message["To"] = f"connect+{invitation.reply_token}@{DOMAIN}"
    message["Subject"] = subject or "Re: PT Pelanggan Jaya mengundang Anda untuk terhubung di tautan"
    message["Message-ID"] = make_msgid(domain="pt-maju.co.id")
    message["In-Reply-To"] = "<tautan.1.20260302093000@connect.example.id>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message


def request_mail(sender: str, slug: str, subject: str, body: str) -> EmailMessage:
    """A supplier's message to a request+<slug> address."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = f"request+{slug}@{DOMAIN}"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].rstrip(">"))
    message.set_content(body)
    return message


def send(port: int, message: EmailMessage | bytes, *, to: list[str] | None = None, sender: str | None = None) -> None:
    data = message if isinstance(message, bytes) else message.as_bytes()
    if to is None:
        to = [str(message["To"])]  # type: ignore[index]
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail(sender if sender is not None else "ana@pt-maju.co.id", to, data)


def inbox_rows(container: Container) -> list[tuple[str, str | None]]:
    with container.uow() as uow:
        return [(r.status, r.outcome) for r in uow.session.scalars(select(Inbox).order_by(Inbox.id))]


def delivered(sink) -> list[email.message.EmailMessage]:  # noqa: ANN001
    handler, _ = sink
    return handler.messages()


@pytest.fixture
def invited(container):  # noqa: ANN001, ANN201
    uow = container.uow()
    f.companies(uow)
    return f.invite(uow, types=("order", "invoice"), lang="id")


def test_reply_setuju_connects_and_confirms(container, server, worker, smtp_sink, invited) -> None:  # noqa: ANN001
    inbound, port = server
    send(port, reply(invited, "Setuju.\n\nSalam,\nAna\n\nPada 2 Mar 2026 09.30, tautan menulis:\n> undangan"))
    assert inbox_rows(container) == [("new", None)]  # stored at DATA, processed after
    assert inbound.process_pending() == 1
    assert inbox_rows(container) == [("done", "accepted")]
    view = services.get_invitation(container.uow(), invitation_id=invited.id)
    assert view.status == "accepted" and {c.status for c in view.connections} == {"connected"}
    events = services.history(container.uow(), invitation_id=invited.id)
    assert {(e.kind, e.actor, e.via) for e in events if e.kind == "accepted"} == {
        ("accepted", "email:ana@pt-maju.co.id", "email")}
    worker.run_once()
    subjects = [m["Subject"] for m in delivered(smtp_sink)]
    assert "Anda kini terhubung dengan PT Pelanggan Jaya" in subjects


def test_reply_decline_in_english(container, server, worker, smtp_sink, invited) -> None:  # noqa: ANN001
    inbound, port = server
    send(port, reply(invited, "No thanks, we are not interested.\n\nSent from my iPhone"))
    inbound.process_pending()
    assert inbox_rows(container) == [("done", "declined")]
    assert services.get_invitation(container.uow(), invitation_id=invited.id).status == "declined"


def test_the_same_message_twice_acts_once(container, server, worker, smtp_sink, invited) -> None:  # noqa: ANN001
    inbound, port = server
    message = reply(invited, "Setuju")
    send(port, message)
    send(port, message)  # a retry by the sender's server: accepted (250) but kept once
    assert inbound.process_pending() == 1
    assert len(inbox_rows(container)) == 1
    worker.run_once()
    confirmations = [m for m in delivered(smtp_sink) if m["To"] == "ana@pt-maju.co.id"
                     and m["Subject"].startswith("Anda kini")]
    assert len(confirmations) == 1


def test_unknown_recipients_are_refused(server, invited) -> None:  # noqa: ANN001
    _, port = server
    message = reply(invited, "Setuju")
    for address, code in [(f"nobody@{DOMAIN}", 550), (f"connect+nothex@{DOMAIN}", 550),
                          ("victim@gmail.example", 550), (f"connect+{invited.reply_token}@other.example", 550)]:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send(port, message, to=[address])
        assert refused.value.recipients[address][0] == code
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(port, message, to=["victim@gmail.example"])
    assert b"5.7.1" in refused.value.recipients["victim@gmail.example"][1]  # no open relay


def test_size_and_recipient_limits(server, invited) -> None:  # noqa: ANN001
    _, port = server
    big = reply(invited, "Setuju\n" + "x" * 300_000)
    with pytest.raises(smtplib.SMTPResponseException) as refused:
        send(port, big)
    assert refused.value.smtp_code == 552
    many = [f"postmaster@{DOMAIN}", f"connect+{invited.reply_token}@{DOMAIN}", f"bounces+{invited.reply_token}@{DOMAIN}",
            f"request+pt-pelanggan-jaya@{DOMAIN}"]
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        client.mail("ana@pt-maju.co.id")
        codes = [client.rcpt(address)[0] for address in many]
    assert codes == [250, 250, 250, 452]


def test_a_database_that_is_down_gets_451_then_nothing_is_lost(container, server, invited) -> None:  # noqa: ANN001
    inbound, port = server
    working = inbound.uow
    down = Container(Settings(database_url=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x"))
    inbound.uow = lambda: UnitOfWork(down.session_factory, clock=container.clock)
    message = reply(invited, "Setuju")
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(port, message)
    assert refused.value.smtp_code == 451
    assert inbox_rows(container) == []
    inbound.uow = working  # the database is back; the sender's server retries
    send(port, message)
    inbound.process_pending()
    assert inbox_rows(container) == [("done", "accepted")]
    down.close()


def test_a_bounce_marks_the_invitation_undeliverable(container, server, invited) -> None:  # noqa: ANN001
    inbound, port = server
    dsn = dsn_for(invited.reply_token, "ana@pt-maju.co.id")
    send(port, dsn, to=[f"bounces+{invited.reply_token}@{DOMAIN}"], sender="")
    inbound.process_pending()
    assert inbox_rows(container) == [("done", "bounce_recorded")]
    view = services.get_invitation(container.uow(), invitation_id=invited.id)
    assert view.status == "undeliverable" and {c.status for c in view.connections} == {"invited"}
    [bounced] = [e for e in services.history(container.uow(), invitation_id=invited.id) if e.kind == "bounced"]
    assert "5.1.1" in bounced.details["reason"]


def test_an_out_of_office_changes_nothing_and_gets_no_answer(container, server, worker, smtp_sink, invited) -> None:  # noqa: ANN001
    inbound, port = server
    ooo = reply(invited, "Saya sedang cuti sampai 10 Maret. Untuk hal mendesak hubungi Budi.",
                subject="Balasan otomatis: Sedang cuti", headers={"Auto-Submitted": "auto-replied"})
    send(port, ooo)
    inbound.process_pending()
    assert inbox_rows(container) == [("done", "auto_reply")]
    assert services.get_invitation(container.uow(), invitation_id=invited.id).status == "pending"
    worker.run_once()
    assert [m for m in delivered(smtp_sink) if m["To"] == "ana@pt-maju.co.id"] == [] or all(
        "undang" in m["Subject"].lower() for m in delivered(smtp_sink))


def test_unclear_help_and_status_get_answers(container, server, worker, smtp_sink, invited) -> None:  # noqa: ANN001
    inbound, port = server
    send(port, reply(invited, "Apakah ada biaya untuk ini?"))
    send(port, reply(invited, "BANTUAN"))
    send(port, reply(invited, "STATUS"))
    inbound.process_pending()
    assert [o for _, o in inbox_rows(container)] == ["unclear", "help", "status"]
    assert services.get_invitation(container.uow(), invitation_id=invited.id).status == "pending"
    worker.run_once()
    answers = [m for m in delivered(smtp_sink) if m["Subject"].startswith("Re:")]
    assert len(answers) == 3
    for answer in answers:
        assert answer["Auto-Submitted"] == "auto-replied" and answer["In-Reply-To"]
        assert answer["Reply-To"] == f"connect+{invited.reply_token}@{DOMAIN}"
    unclear = answers[0].get_body(("plain",)).get_content()
    assert "https://tautan.example.id/i/" in unclear and "SETUJU" in unclear or "ACCEPT" in unclear
    status = answers[2].get_body(("plain",)).get_content()
    assert "PT Pelanggan Jaya" in status


def test_another_sender_gets_the_link_instead_of_acting(container, server, worker, smtp_sink, invited) -> None:  # noqa: ANN001
    inbound, port = server
    send(port, reply(invited, "Setuju", sender="mallory@evil.example"), sender="mallory@evil.example")
    inbound.process_pending()
    assert inbox_rows(container) == [("done", "other_sender")]
    assert services.get_invitation(container.uow(), invitation_id=invited.id).status == "pending"
    # a colleague at the supplier's own domain may answer
    send(port, reply(invited, "Setuju", sender="finance@pt-maju.co.id"), sender="finance@pt-maju.co.id")
    inbound.process_pending()
    assert services.get_invitation(container.uow(), invitation_id=invited.id).status == "accepted"


def test_answers_are_rate_limited_per_sender(container, server, worker, smtp_sink, invited) -> None:  # noqa: ANN001
    inbound, port = server
    for i in range(8):
        send(port, reply(invited, f"Pertanyaan nomor {i}?"))
    inbound.process_pending()
    worker.run_once()
    answers = [m for m in delivered(smtp_sink) if m["Subject"].startswith("Re:")]
    assert len(answers) == 5


def test_our_own_mail_is_ignored(container, server, worker, smtp_sink, invited) -> None:  # noqa: ANN001
    inbound, port = server
    send(port, reply(invited, "Setuju", sender=f"tautan@{DOMAIN}"), sender=f"tautan@{DOMAIN}")
    inbound.process_pending()
    assert inbox_rows(container) == [("done", "own_mail")]
    assert services.get_invitation(container.uow(), invitation_id=invited.id).status == "pending"


def test_supplier_request_by_email_needs_a_confirmed_address(container, server, worker, smtp_sink, clock) -> None:  # noqa: ANN001
    inbound, port = server
    f.companies(container.uow())
    send(port, request_mail("Budi <budi@toko-budi.co.id>", "pt-pelanggan-jaya", "Permintaan koneksi",
                            "Kami ingin mengirim faktur elektronik kepada Anda."), sender="budi@toko-budi.co.id")
    send(port, request_mail("budi@toko-budi.co.id", "nobody-here", "Hello", "Hello"), sender="budi@toko-budi.co.id")
    inbound.process_pending()
    assert [o for _, o in inbox_rows(container)] == ["request_confirmation_sent", "request_unknown_customer"]
    # nothing is requested before the address is confirmed
    assert services.search(container.uow(), company=f.CUSTOMER).total == 0
    worker.run_once()
    confirm = next(m for m in delivered(smtp_sink) if "PT Pelanggan Jaya" in m["Subject"])
    assert confirm["To"] == "budi@toko-budi.co.id" and confirm["Content-Language"] == "id"
    link = next(line for line in confirm.get_body(("plain",)).get_content().splitlines() if "/r/" in line).strip()
    customer_id, address, issued = unsign(container.settings.secret_keys, SUPPLIER_REQUEST, link.rsplit("/", 1)[1])
    assert address == "budi@toko-budi.co.id" and issued == int(clock.now.timestamp())
    assert services.get_company(container.uow(), customer_id).name == f.CUSTOMER


def test_requests_are_rate_limited_per_sender_and_domain(container, server) -> None:  # noqa: ANN001
    inbound, port = server
    f.companies(container.uow())
    for i in range(5):
        sender = f"user{i % 2}@spam.example"
        send(port, request_mail(sender, "pt-pelanggan-jaya", "connect", "please connect"), sender=sender)
    inbound.limits.requests_per_day_per_domain = 4
    inbound.process_pending()
    outcomes = [o for _, o in inbox_rows(container)]
    assert outcomes.count("request_confirmation_sent") == 4 and outcomes.count("request_rate_limited") == 1


def test_a_crash_between_storing_and_processing_is_recovered(container, invited, clock) -> None:  # noqa: ANN001
    inbound = container.inbound()
    message = reply(invited, "Setuju").as_bytes()
    stored = inbound.receive(message, Envelope("ana@pt-maju.co.id", (f"connect+{invited.reply_token}@{DOMAIN}",)),
                             source="test")
    # a processor claimed it and died before finishing
    assert inbox.claim(container.uow(), ids=[stored.id])
    assert container.inbound().process_pending() == 0  # its lease still holds
    clock.advance(minutes=6)
    assert container.inbound().process_pending() == 1
    assert inbox_rows(container) == [("done", "accepted")]


def test_the_worker_processes_what_was_left_behind(container, worker, invited) -> None:  # noqa: ANN001
    inbound = container.inbound()
    inbound.receive(reply(invited, "tolak").as_bytes(),
                    Envelope("ana@pt-maju.co.id", (f"connect+{invited.reply_token}@{DOMAIN}",)), source="test")
    assert worker.run_once().received == 1
    assert services.get_invitation(container.uow(), invitation_id=invited.id).status == "declined"


def test_parse_recipient() -> None:
    token = "0123456789abcdef0123456789abcdef"
    assert parse_recipient(f"connect+{token}@{DOMAIN}", DOMAIN).kind == "connect"
    assert parse_recipient(f"Connect+{token.upper()}@CONNECT.example.ID", DOMAIN).value == token
    assert parse_recipient(f"bounces+{token}@{DOMAIN}", DOMAIN).kind == "bounces"
    assert parse_recipient(f"request+pt-maju@{DOMAIN}", DOMAIN).value == "pt-maju"
    assert parse_recipient(f"postmaster@{DOMAIN}", DOMAIN).kind == "postmaster"
    for bad in (f"connect+{token[:-1]}@{DOMAIN}", f"connect@{DOMAIN}", f"ana@{DOMAIN}", f"connect+{token}@x.id",
                f"request+../etc@{DOMAIN}", "", "@", f"request+@{DOMAIN}"):
        assert parse_recipient(bad, DOMAIN) is None, bad


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(body=st.one_of(
    st.binary(max_size=2000),
    st.builds(lambda h, b: h + b"\r\n\r\n" + b, st.sampled_from([
        b"Content-Type: multipart/mixed; boundary=\"x\"",
        b"Content-Type: multipart/alternative",
        b"Content-Type: text/plain; charset=\"x-unknown-charset\"\r\nContent-Transfer-Encoding: base64",
        b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable",
        b"From: =?utf-8?b?broken?=\r\nSubject: =?x-bad?q?oops?=",
        b"From broken header without colon",
        b"Content-Type: message/rfc822",
    ]), st.binary(max_size=1500)),
))
def test_malformed_mime_never_crashes_and_is_kept(container, invited, body: bytes) -> None:  # noqa: ANN001
    inbound = container.inbound()
    # uuid4, not make_msgid: hypothesis seeds the random module, which make_msgid draws from
    raw = b"From: ana@pt-maju.co.id\r\nMessage-ID: <" + uuid.uuid4().hex.encode() + b"@fuzz>\r\n" + body
    stored = inbound.receive(raw, Envelope("ana@pt-maju.co.id", (f"connect+{invited.reply_token}@{DOMAIN}",)),
                             source="fuzz")
    inbound.process_pending(ids=[stored.id])
    with container.uow() as uow:
        row = uow.session.get(Inbox, stored.id)
        assert row.raw == raw
        assert row.status in (InboxStatus.DONE, InboxStatus.FAILED)
        uow.session.execute(update(Inbox).where(Inbox.id == stored.id).values(status=InboxStatus.DONE))
        uow.commit()


def dsn_for(token: str, recipient: str) -> bytes:
    return (
        "Return-Path: <>\r\n"
        "From: MAILER-DAEMON@mx.pt-maju.co.id (Mail Delivery System)\r\n"
        f"To: bounces+{token}@{DOMAIN}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <20260302093512.4A1B2@mx.pt-maju.co.id>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n"
        "\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
        f"I'm sorry to have to inform you that your message could not be delivered to {recipient}.\r\n"
        "\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.pt-maju.co.id\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown\r\n"
        "\r\n--B--\r\n"
    ).encode()


def test_a_confirmed_request_reaches_the_customer(container, server, worker, smtp_sink, clock) -> None:  # noqa: ANN001
    from starlette.testclient import TestClient

    from tautan.web import create_app

    inbound, port = server
    f.companies(container.uow())
    send(port, request_mail("Budi <budi@toko-budi.co.id>", "pt-pelanggan-jaya", "Koneksi faktur", "Mohon dihubungkan."),
         sender="budi@toko-budi.co.id")
    inbound.process_pending()
    worker.run_once()
    [confirm] = [m for m in delivered(smtp_sink) if m["To"] == "budi@toko-budi.co.id"]
    link = re.search(r"https://tautan\.example\.id(/r/\S+)", confirm.get_body(("plain",)).get_content()).group(1)
    with TestClient(create_app(container), base_url="https://testserver") as client:
        page = client.get(link)
        assert page.status_code == 200 and "PT Pelanggan Jaya" in page.text and "toko-budi" in page.text
        assert services.search(container.uow(), company=f.CUSTOMER).total == 0  # GET changes nothing
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        refused = client.post(link, data={"types": ["order"]})  # no CSRF field
        assert refused.status_code == 403
        done = client.post(link, data={"csrf": csrf, "types": ["order", "invoice"], "supplier_name": "Toko Budi"})
        assert done.status_code == 200 and "PT Pelanggan Jaya" in done.text
        requested = services.search(container.uow(), company=f.CUSTOMER, statuses=["requested"])
        assert {c.type for c in requested.items} == {"order", "invoice"}
        assert {c.supplier for c in requested.items} == {"Toko Budi"}
        events = services.history(container.uow(), connection_id=requested.items[0].id)
        assert [(e.kind, e.actor, e.via) for e in events] == [("requested", "email:budi@toko-budi.co.id", "link")]
        clock.advance(days=8)
        assert client.get(link).status_code == 410  # the confirmation link expires
        tampered = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
        assert client.get(tampered).status_code == 400


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
FIXTURE_TOKEN = "0123456789abcdef0123456789abcdef"
CORPUS = list(csv.DictReader((FIXTURES / "expected.csv").open(encoding="utf-8")))
OUTCOMES = {  # what the pipeline does with each kind of message
    ("bounce", "unclear"): {"bounce_recorded", "complaint_recorded", "bounce_delayed"},
    ("auto_reply", "unclear"): {"auto_reply"},
    ("human", "accept"): {"accepted", "other_sender"},
    ("human", "decline"): {"declined", "other_sender"},
    ("human", "unclear"): {"unclear", "other_sender"},
    ("human", "help"): {"help", "other_sender"},
    ("human", "status"): {"status", "other_sender"},
    ("human", "confirm"): {"confirmation_asked", "other_sender"},
}


@pytest.mark.parametrize("case", CORPUS, ids=[c["file"] for c in CORPUS])
def test_the_corpus_through_the_real_smtp_server(container, server, case) -> None:  # noqa: ANN001
    """Each .eml of the development corpus, sent to tautan's SMTP server for a live invitation."""
    inbound, port = server
    uow = container.uow()
    f.companies(uow)
    invitation = f.invite(uow)
    raw = (FIXTURES / case["file"]).read_bytes().replace(FIXTURE_TOKEN.encode(), invitation.reply_token.encode())
    raw = re.sub(rb"\r?\n", b"\r\n", raw)  # on the wire, as any mail server sends it
    kind = "bounces" if case["kind"] == "bounce" else "connect"
    send(port, raw, to=[f"{kind}+{invitation.reply_token}@{DOMAIN}"], sender="" if kind == "bounces" else
         "ana@pt-maju.co.id")
    inbound.process_pending()
    [(status, outcome)] = inbox_rows(container)
    assert status == "done" and outcome in OUTCOMES[(case["kind"], case["intent"])], (outcome, case)
    after = services.get_invitation(uow, invitation_id=invitation.id).status
    expected = {"accepted": "accepted", "declined": "declined", "bounce_recorded": "undeliverable",
                "complaint_recorded": "undeliverable"}.get(outcome, "pending")
    assert after == expected
    unrelated = "unrelated domain" in case["note"]
    if case["kind"] == "human":
        assert (outcome == "other_sender") == unrelated, "only the invited domain may answer"


def test_starttls_when_a_certificate_is_configured(container, invited, tmp_path) -> None:  # noqa: ANN001
    import ssl


    cert, key = certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    inbound = container.inbound()
    controller = make_controller(InboundHandler(inbound, mail_domain=DOMAIN), host="127.0.0.1", port=free_port(),
                                 tls=server_context)
    controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", controller.port, timeout=10) as client:
            client.ehlo()
            assert client.has_extn("starttls")
            client.starttls(context=ssl.create_default_context(cafile=cert))
            client.ehlo()
            client.sendmail("ana@pt-maju.co.id", [f"connect+{invited.reply_token}@{DOMAIN}"],
                            reply(invited, "Setuju").as_bytes())
    finally:
        controller.stop()
    inbound.process_pending()
    assert inbox_rows(container) == [("done", "accepted")]
