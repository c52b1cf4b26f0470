"""Invitations by email, end to end: services write outbox rows, the worker composes and hands
them to a real SMTP relay (an aiosmtpd sink on a free port), and we read what arrived."""

from __future__ import annotations

import datetime as dt
import email
import re
import threading
from email import policy

import pytest
from sqlalchemy import func, select

from tautan.core import services
from tautan.core.errors import InvitationClosed, Suppressed
from tautan.core.model import Event, Outbox
from tautan.mail.links import INVITATION_PAGE, UNSUBSCRIBE, unsign
from tautan.mail.transport import MaildirTransport, SmtpTransport
from tautan.settings import Settings
from tautan.wiring import Container
from tautan.worker import Worker
from tests.support import MAIL_KEYS as KEYS
from tests.support import factories as f
from tests.support import free_port


@pytest.fixture
def worker(container, smtp_sink) -> Worker:  # noqa: ANN001
    handler, port = smtp_sink
    return Worker.from_container(container, SmtpTransport(f"smtp://127.0.0.1:{port}", timeout=5))


def outbox_rows(container: Container, channel: str = "email") -> list[tuple[str, str, int]]:
    with container.uow() as uow:
        return [(r.kind, r.status, r.attempts) for r in uow.session.scalars(
            select(Outbox).where(Outbox.channel == channel).order_by(Outbox.id))]


def event_kinds(container: Container) -> list[str]:
    with container.uow() as uow:
        return list(uow.session.scalars(select(Event.kind).order_by(Event.id)))


def test_the_invitation_email(container, worker, smtp_sink) -> None:  # noqa: ANN001
    handler, _ = smtp_sink
    uow = container.uow()
    f.companies(uow)
    services.create_company(uow, name="Keuangan", parent=f.CUSTOMER, actor=f.ADMIN, via="cli")
    invitation = f.invite(uow, types=("order", "invoice"), unit="Keuangan", lang="id",
                          message="Mohon bergabung sebelum akhir bulan.")
    assert outbox_rows(container) == [("invitation", "pending", 0)]

    report = worker.run_once()
    assert report.sent == 1 and outbox_rows(container) == [("invitation", "sent", 1)]
    [(mail_from, rcpt_tos, raw)] = handler.received
    assert mail_from == f"bounces+{invitation.reply_token}@connect.example.id"
    assert rcpt_tos == ["ana@pt-maju.co.id"]
    message = email.message_from_bytes(raw, policy=policy.default)

    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Reply-To"] == f"connect+{invitation.reply_token}@connect.example.id"
    assert message["To"] == "ana@pt-maju.co.id"
    assert message["From"].addresses[0].addr_spec == "undangan@connect.example.id"
    assert "PT Pelanggan Jaya / Keuangan" in message["From"].addresses[0].display_name
    assert re.fullmatch(r"<tautan\.\d+\.\d{14}@connect\.example\.id>", message["Message-ID"])
    assert email.utils.parsedate_to_datetime(message["Date"]) == container.clock()
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "id"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(r"<(https://tautan\.example\.id/u/[^>]+)>", message["List-Unsubscribe"]).group(1)
    assert unsign(KEYS, UNSUBSCRIBE, unsubscribe.rsplit("/", 1)[1]) == [invitation.id, invitation.reply_token]
    assert b"=?utf-8?" not in raw.split(b"\r\n\r\n", 1)[0].split(b"List-Unsubscribe:")[1].split(b"\r\n")[0]

    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = re.search(r"https://tautan\.example\.id/i/\S+", text).group(0)
    assert unsign(KEYS, INVITATION_PAGE, link.rsplit("/", 1)[1]) == [invitation.id, invitation.reply_token]
    assert f'href="{link}"' in html
    # in the invitation's language, with the customer, the types, the message and the expiry
    for part in (text, html):
        assert "PT Pelanggan Jaya / Keuangan" in part
        assert "pesanan dan faktur" in part
        assert "Mohon bergabung sebelum akhir bulan." in part
        assert "1 April 2026" in part
        assert "SETUJU" in part and "TOLAK" in part
    assert message["Subject"] == ("Undangan dari PT Pelanggan Jaya / Keuangan: "
                                  "kirim pesanan dan faktur secara elektronik")


def test_english_invitation(container, worker, smtp_sink) -> None:  # noqa: ANN001
    handler, _ = smtp_sink
    uow = container.uow()
    f.companies(uow)
    f.invite(uow, email="sales@acme.example.com", lang="en")
    worker.run_once()
    [message] = handler.messages()
    text = message.get_body(("plain",)).get_content()
    assert "ACCEPT" in text and "DECLINE" in text and "April 1, 2026" in text
    assert message["Subject"] == "Invitation from PT Pelanggan Jaya: send invoices electronically"


def test_confirmations_after_accept_and_decline(container, worker, smtp_sink) -> None:  # noqa: ANN001
    handler, _ = smtp_sink
    uow = container.uow()
    f.companies(uow)
    first = f.invite(uow, lang="id")
    services.accept(uow, invitation_id=first.id, actor=f.CONTACT, via="link")
    services.create_company(uow, name="PT Lain", actor=f.ADMIN, via="cli")
    second = services.invite(uow, customer="PT Lain", email="budi@toko.example.com", types=["order"],
                             actor=f.ADMIN, via="cli", lang="en")
    services.decline(uow, invitation_id=second.id, actor="email:budi@toko.example.com", via="email")
    assert worker.run_once().sent == 4
    subjects = [m["Subject"] for m in handler.messages()]
    assert "Anda kini terhubung dengan PT Pelanggan Jaya" in subjects
    assert "You declined the invitation from PT Lain" in subjects
    confirmation = next(m for m in handler.messages() if m["Subject"].startswith("Anda kini"))
    assert confirmation["List-Unsubscribe"] is None and confirmation["Auto-Submitted"] == "auto-generated"


def test_a_relay_that_is_down_loses_nothing(container, clock, smtp_sink) -> None:  # noqa: ANN001
    handler, port = smtp_sink
    uow = container.uow()
    f.companies(uow)
    f.invite(uow)
    down = Worker.from_container(container, SmtpTransport(f"smtp://127.0.0.1:{free_port()}", timeout=2))
    report = down.run_once()
    assert report.sent == 0 and report.retrying == 1
    assert outbox_rows(container) == [("invitation", "pending", 1)]
    assert down.run_once().sent == 0  # not due yet: backoff
    clock.advance(minutes=1)
    up = Worker.from_container(container, SmtpTransport(f"smtp://127.0.0.1:{port}", timeout=5))
    assert up.run_once().sent == 1
    assert outbox_rows(container) == [("invitation", "sent", 2)] and len(handler.received) == 1


def test_a_temporary_refusal_is_retried_with_backoff(container, worker, smtp_sink, clock) -> None:  # noqa: ANN001
    handler, _ = smtp_sink
    handler.refuse["ana@pt-maju.co.id"] = "451 4.3.0 try again later"
    uow = container.uow()
    f.companies(uow)
    f.invite(uow)
    for minutes in (1, 5, 15):
        assert worker.run_once().retrying == 1
        assert worker.run_once().retrying == 0  # waiting
        clock.advance(minutes=minutes)
    del handler.refuse["ana@pt-maju.co.id"]
    assert worker.run_once().sent == 1


def test_a_permanent_refusal_marks_the_invitation_undeliverable(container, worker, smtp_sink) -> None:  # noqa: ANN001
    handler, _ = smtp_sink
    handler.refuse["ana@pt-maju.co.id"] = "550 5.1.1 <ana@pt-maju.co.id>: Recipient address rejected"
    uow = container.uow()
    f.companies(uow)
    customer = services.get_company(uow, f.CUSTOMER)
    services.set_notices_wanted(uow, company_id=customer.id, wanted=True, actor=f.ADMIN, via="slack")
    invitation = f.invite(uow)
    assert worker.run_once().failed == 1
    assert outbox_rows(container) == [("invitation", "failed", 1)]
    assert outbox_rows(container, "slack") == [("bounced", "pending", 0)]  # the team hears of it
    assert services.get_invitation(uow, invitation_id=invitation.id).status == "undeliverable"
    [bounced] = [e for e in services.history(uow, invitation_id=invitation.id) if e.kind == "bounced"]
    assert "550" in bounced.details["reason"] and bounced.details["email"] == "ana@pt-maju.co.id"
    assert worker.run_once().sent == 0 and not handler.received
    # the admin fixes nothing but tries again: same invitation, same tokens
    handler.refuse.clear()
    resent = services.resend(uow, invitation_id=invitation.id, actor=f.ADMIN, via="slack")
    assert resent.status == "pending" and resent.reply_token == invitation.reply_token
    assert worker.run_once().sent == 1


def test_reminders_after_3_7_and_14_days_then_expiry(container, worker, smtp_sink, clock) -> None:  # noqa: ANN001
    handler, _ = smtp_sink
    uow = container.uow()
    f.companies(uow)
    invitation = f.invite(uow, lang="en")
    worker.run_once()
    sent_on = {}
    for day in range(1, 31):
        clock.advance(days=1)
        report = worker.run_once()
        if report.reminded:
            sent_on[day] = report.reminded
    assert sent_on == {3: 1, 7: 1, 14: 1}
    subjects = [m["Subject"] for m in handler.messages()]
    assert subjects.count("Reminder: invitation from PT Pelanggan Jaya to send invoices electronically") == 3
    assert services.get_invitation(uow, invitation_id=invitation.id).status == "expired"
    assert event_kinds(container).count("reminded") == 3 and "expired" in event_kinds(container)


def test_no_reminder_for_an_answered_invitation(container, worker, clock) -> None:  # noqa: ANN001
    uow = container.uow()
    f.companies(uow)
    invitation = f.invite(uow)
    services.accept(uow, invitation_id=invitation.id, actor=f.CONTACT, via="email")
    clock.advance(days=20)
    assert worker.run_once().reminded == 0


def test_unsubscribe_is_honoured(container, worker, clock) -> None:  # noqa: ANN001
    uow = container.uow()
    f.companies(uow)
    invitation = f.invite(uow)
    assert services.unsubscribe(uow, invitation_id=invitation.id, actor=f.CONTACT, via="link") is True
    assert services.unsubscribe(uow, invitation_id=invitation.id, actor=f.CONTACT, via="link") is False
    clock.advance(days=4)
    assert worker.run_once().reminded == 0  # no reminders either
    services.cancel(uow, invitation_id=invitation.id, actor=f.ADMIN, via="slack")
    with pytest.raises(Suppressed):
        f.invite(uow)
    # another customer may still invite that address
    services.create_company(uow, name="PT Lain", actor=f.ADMIN, via="cli")
    assert services.invite(uow, customer="PT Lain", email=f.EMAIL, types=["order"], actor=f.ADMIN,
                           via="cli").created


def test_resend_reopens_an_expired_invitation(container, worker, smtp_sink, clock) -> None:  # noqa: ANN001
    handler, _ = smtp_sink
    uow = container.uow()
    f.companies(uow)
    invitation = f.invite(uow)
    clock.advance(days=31)
    worker.run_once()
    assert services.get_invitation(uow, invitation_id=invitation.id).status == "expired"
    reopened = services.resend(uow, invitation_id=invitation.id, actor=f.ADMIN, via="slack")
    assert reopened.status == "pending" and reopened.expires_at == clock.now + dt.timedelta(days=30)
    assert {c.status for c in reopened.connections} == {"invited"}
    worker.run_once()
    assert len(handler.received) == 2  # the first invitation and the new one
    services.accept(uow, invitation_id=invitation.id, actor=f.CONTACT, via="email")
    with pytest.raises(InvitationClosed):
        services.resend(uow, invitation_id=invitation.id, actor=f.ADMIN, via="slack")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_never_send_twice(container, database_url, smtp_sink, clock) -> None:  # noqa: ANN001
    handler, port = smtp_sink
    uow = container.uow()
    f.companies(uow)
    for i in range(40):
        services.invite(uow, customer=f.CUSTOMER, email=f"sales{i}@supplier{i}.example.com", types=["invoice"],
                        actor=f.ADMIN, via="cli")
    workers = []
    for _ in range(2):
        other = Container(container.settings, clock=clock)
        workers.append(Worker.from_container(other, SmtpTransport(f"smtp://127.0.0.1:{port}", timeout=5)))
        workers[-1].batch = 3
    reports = [None, None]
    barrier = threading.Barrier(2)

    def run(i: int) -> None:
        barrier.wait()
        reports[i] = workers[i].run_once()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for w in workers:
        w.container.close()
    assert sum(r.sent for r in reports) == 40
    assert all(r.sent > 0 for r in reports), "both workers took part"
    ids = [m["Message-ID"] for m in handler.messages()]
    assert len(ids) == 40 and len(set(ids)) == 40
    with container.uow() as u:
        assert u.session.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "sent")) == 40


def test_the_default_is_a_local_maildir(container, tmp_path) -> None:  # noqa: ANN001
    uow = container.uow()
    f.companies(uow)
    f.invite(uow)
    local = Worker.from_container(container, MaildirTransport(tmp_path / "var" / "sent-mail"))
    assert local.run_once().sent == 1
    [path] = (tmp_path / "var" / "sent-mail" / "new").iterdir()
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["Return-Path"].startswith("<bounces+")
    assert message.get_content_type() == "multipart/alternative"


def test_settings_choose_the_maildir_without_a_relay(database_url) -> None:  # noqa: ANN001
    settings = Settings.from_env({"DATABASE_URL": database_url})
    assert isinstance(Worker.from_container(Container(settings)).transport, MaildirTransport)
    relay = Settings.from_env({"SMTP_RELAY_URL": "smtps://user:p%40ss@mail.example.com"})
    transport = Worker.from_container(Container(relay)).transport
    assert isinstance(transport, SmtpTransport) and transport.implicit_tls and transport.port == 465
    assert transport.password == "p@ss" and "p@ss" not in transport.description
    assert SmtpTransport("smtp://relay.example.com:587").starttls
    assert SmtpTransport("smtp://relay.example.com?starttls=1").starttls
    assert not SmtpTransport("smtp://relay.example.com").starttls


def test_maintenance_once_a_minute_delivery_every_round(container, worker, smtp_sink, clock) -> None:  # noqa: ANN001
    """A running worker delivers every round, but expires and reminds only once a minute: an idle
    worker polls one query's worth, not five."""
    handler, _ = smtp_sink
    uow = container.uow()
    f.companies(uow)
    invitation = f.invite(uow)
    clock.advance(days=31)  # the invitation is due to expire
    assert worker.run_once(maintenance=False).expired == 0
    assert services.get_invitation(uow, invitation_id=invitation.id).status == "pending"
    assert len(handler.received) == 1  # delivered all the same

    worker.timer = lambda: clock.now.timestamp()
    rounds: list[bool] = []
    run_once = worker.run_once

    def one_round(*, maintenance: bool = True) -> object:
        rounds.append(maintenance)
        if len(rounds) == 2:
            clock.advance(seconds=61)
        if len(rounds) == 3:
            worker.stop.set()
        return run_once(maintenance=maintenance)

    worker.run_once = one_round  # type: ignore[method-assign]
    worker.run_forever(interval=0)
    assert rounds == [True, False, True]
    assert services.get_invitation(uow, invitation_id=invitation.id).status == "expired"


def test_a_failing_warm_up_is_logged_and_the_worker_goes_on(worker, monkeypatch, caplog) -> None:  # noqa: ANN001
    import tautan.worker as worker_module

    def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("template missing")

    monkeypatch.setattr(worker_module, "warm_up", broken)
    worker.warm_up()  # raises nothing: the first real message records the same error on its row
    assert "could not compose the sample messages" in caplog.text
