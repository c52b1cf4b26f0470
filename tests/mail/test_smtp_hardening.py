"""Every message answered 250 is acted on, or its sender is told why not: international
addresses, deduplication, unknown tokens, long lines, missing From:, postmaster, PIPELINING and a
slow database, over real SMTP against tautan's aiosmtpd server on a free port."""

from __future__ import annotations

import smtplib
import threading
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import select, text

from tautan.core import services
from tautan.core.errors import InvalidInput
from tautan.core.model import Inbox, Outbox, OutboxStatus
from tautan.mail.inbound import Envelope, dedup_key, parse_recipient
from tautan.mail.transport import DeliveryError, SmtpTransport
from tautan.settings import Settings
from tautan.worker import Worker
from tests.support import factories as f
from tests.support.smtp import inbound_server, running_sink

DOMAIN = "connect.example.id"


@pytest.fixture
def server(container):  # noqa: ANN001, ANN201
    with inbound_server(container, domain=DOMAIN, store_timeout=1.0, max_size=2_000_000) as running:
        yield running


def reply(token: str, body: str = "Setuju", *, sender: str = "ana@pt-maju.co.id",
          message_id: str | None = None) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTPUTF8)
    message["From"] = sender
    message["To"] = f"connect+{token}@{DOMAIN}"
    message["Subject"] = "Re: undangan"
    message["Message-ID"] = message_id or make_msgid(domain="pt-maju.co.id")
    message.set_content(body)
    return message


def send(port: int, data: bytes, *, to: list[str], sender: str = "ana@pt-maju.co.id",
         options: tuple[str, ...] = ()) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as client:
        client.sendmail(sender, to, data, mail_options=list(options))


def outcomes(container) -> list[str | None]:  # noqa: ANN001
    with container.uow() as uow:
        return [row.outcome for row in uow.session.scalars(select(Inbox).order_by(Inbox.id))]


def test_a_reply_from_an_international_address_is_processed(container, server, invited) -> None:  # noqa: ANN001
    inbound, port = server
    sender = "ánä@pt-maju.co.id"  # a colleague at the invited domain, with an SMTPUTF8 address
    send(port, reply(invited.reply_token, sender=sender).as_bytes(), to=[f"connect+{invited.reply_token}@{DOMAIN}"],
         sender=sender, options=("SMTPUTF8",))
    inbound.process_pending()
    assert outcomes(container) == ["accepted"]
    assert services.get_invitation(container.uow(), invitation_id=invited.id).status == "accepted"


def test_invitations_to_international_addresses_are_refused_clearly(container) -> None:  # noqa: ANN001
    f.companies(container.uow())
    with pytest.raises(InvalidInput) as refused:
        f.invite(container.uow(), email="ánä@pémasok.example")
    assert "Latin" in refused.value.message_id and refused.value.params["email"] == "ánä@pémasok.example"


def test_an_international_recipient_needs_smtputf8_at_the_relay() -> None:
    data = b"From: tautan@connect.example.id\r\nTo: x\r\nSubject: hi\r\n\r\nhi\r\n"
    with running_sink(enable_SMTPUTF8=False) as (_, port):
        with SmtpTransport(f"smtp://127.0.0.1:{port}", timeout=5).connect() as connection:
            with pytest.raises(DeliveryError) as failed:
                connection.send(data, "tautan@connect.example.id", ["ánä@pémasok.example"])
    assert failed.value.permanent and "SMTPUTF8" in failed.value.reason
    with running_sink() as (sink, port):
        with SmtpTransport(f"smtp://127.0.0.1:{port}", timeout=5).connect() as connection:
            connection.send(data, "tautan@connect.example.id", ["ánä@pémasok.example"])
    assert sink.received[0][1] == ["ánä@pémasok.example"]


def test_a_message_that_cannot_be_composed_fails_permanently(container, smtp_sink) -> None:  # noqa: ANN001
    _, port = smtp_sink
    with container.uow() as uow:
        uow.enqueue(channel="email", kind="no_such_kind", recipient="ana@pt-maju.co.id", lang="en")
        uow.commit()
    worker = Worker.from_container(container, SmtpTransport(f"smtp://127.0.0.1:{port}", timeout=5))
    report = worker.run_once()
    assert report.failed == 1 and report.retrying == 0
    with container.uow() as uow:
        status, error = uow.session.execute(select(Outbox.status, Outbox.last_error)).one()
    assert status == OutboxStatus.FAILED and error.startswith("compose:")


def test_one_message_id_to_two_invitations_is_two_messages(container, server) -> None:  # noqa: ANN001
    inbound, port = server
    uow = container.uow()
    f.companies(uow)
    services.create_company(uow, name="PT Kedua", roles=["customer"], actor=f.ADMIN, via="cli")
    first = f.invite(uow)
    second = f.invite(uow, customer="PT Kedua")
    message = reply(first.reply_token)
    to = [f"connect+{first.reply_token}@{DOMAIN}", f"connect+{second.reply_token}@{DOMAIN}"]
    for address in to:  # the sender's server delivers one copy per recipient, same Message-ID
        del message["To"]
        message["To"] = address
        send(port, message.as_bytes(), to=[address])
    inbound.process_pending()
    assert outcomes(container) == ["accepted", "accepted"]
    assert {services.get_invitation(container.uow(), invitation_id=i.id).status for i in (first, second)} == {
        "accepted"}


def test_a_reused_message_id_with_other_content_is_kept(container, server, invited) -> None:  # noqa: ANN001
    inbound, port = server
    to = [f"connect+{invited.reply_token}@{DOMAIN}"]
    send(port, reply(invited.reply_token, "Hmm?", message_id="<same@broken.client>").as_bytes(), to=to)
    send(port, reply(invited.reply_token, "Setuju", message_id="<same@broken.client>").as_bytes(), to=to)
    send(port, reply(invited.reply_token, "Setuju", message_id="<same@broken.client>").as_bytes(), to=to)  # a retry
    inbound.process_pending()
    assert outcomes(container) == ["unclear", "accepted"]


def test_a_retry_through_another_relay_is_still_a_duplicate() -> None:
    body = b"From: a@b.example\r\nMessage-ID: <m@b.example>\r\n\r\nSetuju\r\n"
    rcpt = (f"connect+{'a' * 32}@{DOMAIN}",)
    assert dedup_key(body, rcpt) == dedup_key(b"Received: from relay2\r\n" + body, rcpt)
    assert dedup_key(body, rcpt) != dedup_key(body, (f"connect+{'b' * 32}@{DOMAIN}",))


def test_an_unknown_token_is_refused_at_rcpt(server, invited) -> None:  # noqa: ANN001
    _, port = server
    unknown = f"connect+{'0' * 32}@{DOMAIN}"
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(port, reply("0" * 32).as_bytes(), to=[unknown])
    code, text_ = refused.value.recipients[unknown]
    assert code == 550 and b"5.1.1" in text_


def test_long_lines_are_accepted(container, server, invited) -> None:  # noqa: ANN001
    inbound, port = server
    line = "Setuju " + "x" * 70_000  # one 70 KiB line of 8-bit HTML, as some clients send
    message = reply(invited.reply_token)
    message.set_content(f"<p>{line}</p>", subtype="html", cte="8bit")
    data = message.as_bytes(policy=policy.SMTPUTF8.clone(max_line_length=None))
    assert max(len(raw_line) for raw_line in data.split(b"\n")) > 64 * 1024
    send(port, data, to=[f"connect+{invited.reply_token}@{DOMAIN}"])
    inbound.process_pending()
    assert outcomes(container) == ["accepted"]


def test_a_reply_without_from_uses_the_envelope_sender(container, server, invited) -> None:  # noqa: ANN001
    inbound, port = server
    message = reply(invited.reply_token)
    del message["From"]
    send(port, message.as_bytes(), to=[f"connect+{invited.reply_token}@{DOMAIN}"], sender="ana@pt-maju.co.id")
    inbound.process_pending()
    assert outcomes(container) == ["accepted"]
    [accepted] = [e for e in services.history(container.uow(), invitation_id=invited.id) if e.kind == "accepted"]
    assert accepted.actor == "email:ana@pt-maju.co.id"


def test_bare_postmaster_and_pipelining(server) -> None:  # noqa: ANN001
    _, port = server
    assert parse_recipient("postmaster", DOMAIN) is not None
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("pipelining")
        client.mail("someone@example.org")
        assert client.rcpt("<postmaster>")[0] == 250


def test_the_inbound_size_limit_is_a_setting() -> None:
    assert Settings.from_env({"SMTP_MAX_MESSAGE_SIZE": "1234"}).smtp_max_message_size == 1234
    assert Settings.from_env({}).smtp_max_message_size == 10 * 1024 * 1024


def test_a_locked_database_gets_451_in_bounded_time(container, server, invited, engine) -> None:  # noqa: ANN001
    inbound, port = server
    data = reply(invited.reply_token).as_bytes()
    to = [f"connect+{invited.reply_token}@{DOMAIN}"]
    release = threading.Event()
    locked = threading.Event()

    def hold_lock() -> None:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("BEGIN"))
                connection.execute(text("LOCK TABLE inbox IN ACCESS EXCLUSIVE MODE"))
            else:  # the engine begins with BEGIN IMMEDIATE: this holds SQLite's write lock
                connection.execute(text("DELETE FROM inbox WHERE id < 0"))
            locked.set()
            release.wait(60)
            connection.rollback()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    locked.wait(10)
    try:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            send(port, data, to=to)  # the server's 1 s bound answers, not the client's 20 s time-out
        assert refused.value.smtp_code == 451
    finally:
        release.set()
        holder.join()
    send(port, data, to=to)  # the sender's server retries: stored once, acted on once
    inbound.process_pending()
    assert "accepted" in outcomes(container)
    with container.uow() as uow:
        assert len(list(uow.session.scalars(select(Inbox.id)))) == 1
    assert inbound.receive(data, Envelope("ana@pt-maju.co.id", tuple(to)), source="test").duplicate


def test_test_domains_only_when_the_setting_allows_them(engine, database_url) -> None:  # noqa: ANN001
    from tautan.wiring import Container

    assert Settings.from_env({}).allow_test_domains is False
    for allowed in (False, True):
        container = Container(Settings(database_url=database_url,
                                       allow_test_domains=Settings.from_env(
                                           {"ALLOW_TEST_DOMAINS": "true" if allowed else ""}).allow_test_domains))
        try:
            if allowed:
                assert services.normalize_email("ana@lab.test") == "ana@lab.test"
            else:
                with pytest.raises(InvalidInput):
                    services.normalize_email("ana@lab.test")
        finally:
            container.close()
