"""The confirmation step, whole conversations over real SMTP on both databases: a reply the
reader leans on but is not sure of gets a question ("we read your reply as ACCEPT ... reply YES"),
threaded to the supplier's message; a bare yes to it acts as read, a no changes nothing, and the
question dies with the invitation. Every reading is an event in the invitation's history."""

from __future__ import annotations

import email
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from tautan.core import services
from tautan.mail.transport import SmtpTransport
from tautan.worker import Worker
from tests.support import factories as f
from tests.support.smtp import inbound_server

DOMAIN = "connect.example.id"


@pytest.fixture
def server(container):  # noqa: ANN001, ANN201
    with inbound_server(container, domain=DOMAIN, max_recipients=3, max_size=200_000) as running:
        yield running


@pytest.fixture
def worker(container, smtp_sink):  # noqa: ANN001, ANN201
    return Worker.from_container(container, SmtpTransport(f"smtp://127.0.0.1:{smtp_sink[1]}", timeout=5))


def _invite(container, lang: str, types: tuple[str, ...] = ("order", "invoice")):  # noqa: ANN001, ANN202
    uow = container.uow()
    f.companies(uow)
    return f.invite(uow, types=types, lang=lang)


def _reply(invitation, body: str, *, subject: str = "Re: undangan",  # noqa: ANN001
           in_reply_to: str = "") -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Ana <{f.EMAIL}>"
    message["To"] = f"connect+{invitation.reply_token}@{DOMAIN}"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="pt-maju.co.id")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content(body)
    return message


def _send(inbound, port: int, message: EmailMessage) -> None:  # noqa: ANN001
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail(f.EMAIL, [str(message["To"])], message.as_bytes())
    assert inbound.process_pending() == 1


def _outcomes(container) -> list[str]:  # noqa: ANN001
    from sqlalchemy import select

    from tautan.core.model import Inbox

    with container.uow() as uow:
        return [r.outcome for r in uow.session.scalars(select(Inbox).order_by(Inbox.id))]


def _mail_to_supplier(worker, smtp_sink) -> list[email.message.EmailMessage]:  # noqa: ANN001
    worker.run_once()
    return [m for m in smtp_sink[0].messages() if m["To"] == f.EMAIL]


def _text(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _status(container, invitation) -> tuple[str, dict[str, str]]:  # noqa: ANN001
    view = services.get_invitation(container.uow(), invitation_id=invitation.id)
    return view.status, {c.type: c.status for c in view.connections}


@pytest.mark.parametrize(("lang", "lean_reply", "yes", "expected_words"), [
    ("id", "Kami setuju apabila tidak ada biaya, mohon konfirmasinya dulu.", "Ya",
     "Kami membaca balasan Anda sebagai SETUJU untuk pesanan dan faktur dari PT Pelanggan Jaya"),
    ("en", "Yes, as long as there are no fees.", "yes",
     "We read it as ACCEPT for order and invoice from PT Pelanggan Jaya"),
])
def test_a_conditional_yes_is_asked_back_and_a_yes_connects(container, server, worker, smtp_sink, lang, lean_reply,
                                                             yes, expected_words) -> None:  # noqa: ANN001
    inbound, port = server
    invitation = _invite(container, lang)
    first = _reply(invitation, lean_reply + "\n\nSalam,\nAna\n\n> Balas SETUJU untuk terhubung")
    _send(inbound, port, first)
    assert _outcomes(container) == ["confirmation_asked"]
    assert _status(container, invitation) == ("pending", {"order": "invited", "invoice": "invited"})
    [question] = [m for m in _mail_to_supplier(worker, smtp_sink) if m["In-Reply-To"]]
    # the conversation: the invitation email first, the supplier's reply last
    assert question["In-Reply-To"] == first["Message-ID"] and question["References"].split()[-1] == first["Message-ID"]
    assert expected_words in " ".join(_text(question).split())
    assert "/i/" in _text(question)  # the invitation page link
    assert question["Auto-Submitted"] == "auto-replied"

    _send(inbound, port, _reply(invitation, f"{yes}\n\n> {expected_words}", in_reply_to=question["Message-ID"]))
    assert _outcomes(container)[-1] == "confirmed_accepted"
    assert _status(container, invitation) == ("accepted", {"order": "connected", "invoice": "connected"})
    kinds = [e.kind for e in services.history(container.uow(), invitation_id=invitation.id)]
    assert {"reply_read", "confirmation_asked", "confirmation_answered", "accepted"} <= set(kinds)


def test_reading_events_keep_what_was_said(container, server) -> None:  # noqa: ANN001
    inbound, port = server
    invitation = _invite(container, "en")
    _send(inbound, port, _reply(invitation, "Not yet - I need to check with our legal team before we accept."))
    assert _outcomes(container) == ["unclear"]
    [event] = [e for e in services.history(container.uow(), invitation_id=invitation.id) if e.kind == "reply_read"]
    assert event.details["outcome"] == "unclear"
    assert "legal team" in event.details["excerpt"] and "discussion" in event.details["signals"]


def test_a_confirmation_answered_no_changes_nothing(container, server, worker, smtp_sink) -> None:  # noqa: ANN001
    inbound, port = server
    invitation = _invite(container, "id")
    _send(inbound, port, _reply(invitation, "oke siap 👍"))
    assert _outcomes(container) == ["confirmation_asked"]
    _mail_to_supplier(worker, smtp_sink)
    _send(inbound, port, _reply(invitation, "Tidak"))
    assert _outcomes(container)[-1] == "confirmation_refused"
    assert _status(container, invitation) == ("pending", {"order": "invited", "invoice": "invited"})
    answers = _mail_to_supplier(worker, smtp_sink)
    assert "Tidak ada yang berubah pada undangan dari PT Pelanggan Jaya" in " ".join(_text(answers[-1]).split())
    # the question is closed: a later "ya" is a plain yes again, not a confirmation of "oke siap"
    _send(inbound, port, _reply(invitation, "ya"))
    assert _outcomes(container)[-1] == "accepted"


def test_a_confirmation_expires_with_the_invitation(container, server, worker, smtp_sink,  # noqa: ANN001
                                                    clock) -> None:
    inbound, port = server
    invitation = _invite(container, "en")
    _send(inbound, port, _reply(invitation, "Sounds good"))
    assert _outcomes(container) == ["confirmation_asked"]
    clock.advance(days=31)
    _send(inbound, port, _reply(invitation, "yes"))
    assert _outcomes(container)[-1] == "expired"
    assert _status(container, invitation)[1] == {"order": "invited", "invoice": "invited"}
    answers = _mail_to_supplier(worker, smtp_sink)
    assert "expired" in _text(answers[-1])


def test_a_partial_answer_connects_only_its_types_after_confirmation(container, server, worker,  # noqa: ANN001
                                                                     smtp_sink) -> None:
    inbound, port = server
    invitation = _invite(container, "id")
    _send(inbound, port, _reply(invitation, "Setuju untuk faktur saja, pesanan masih manual."))
    assert _outcomes(container) == ["confirmation_asked"]
    [question] = [m for m in _mail_to_supplier(worker, smtp_sink) if m["In-Reply-To"]]
    text = " ".join(_text(question).split())
    assert "SETUJU untuk faktur dari PT Pelanggan Jaya" in text
    assert "Untuk pesanan, kami membacanya sebagai TOLAK" in text
    _send(inbound, port, _reply(invitation, "betul"))
    assert _outcomes(container)[-1] == "confirmed_answered_types"
    assert _status(container, invitation) == ("accepted", {"order": "rejected", "invoice": "connected"})
    mails = _mail_to_supplier(worker, smtp_sink)
    connected = [m for m in mails if m["Subject"].startswith("Anda kini terhubung")]
    assert connected and "untuk faktur" in _text(connected[-1])


def test_a_clear_answer_still_acts_at_once(container, server) -> None:  # noqa: ANN001
    inbound, port = server
    invitation = _invite(container, "id")
    _send(inbound, port, _reply(invitation, "Maaf, kami memutuskan untuk tidak bergabung.\n\nSalam,\nAna"))
    assert _outcomes(container) == ["declined"]
    assert _status(container, invitation) == ("declined", {"order": "rejected", "invoice": "rejected"})


def test_out_of_office_text_changes_nothing(container, server, worker, smtp_sink) -> None:  # noqa: ANN001
    inbound, port = server
    invitation = _invite(container, "id")
    _send(inbound, port, _reply(invitation, "Saya sedang cuti hingga 15 Maret dan akan membalas setelah kembali."))
    assert _outcomes(container) == ["auto_reply"]
    assert [m for m in _mail_to_supplier(worker, smtp_sink) if m["In-Reply-To"]] == []  # no answer to a robot


def test_subject_only_answer_is_asked_back(container, server) -> None:  # noqa: ANN001
    inbound, port = server
    invitation = _invite(container, "en", types=("invoice",))
    _send(inbound, port, _reply(invitation, "", subject="Re: PT Pelanggan Jaya invites you to connect — DECLINE"))
    assert _outcomes(container) == ["confirmation_asked"]
    pending = services.pending_confirmation(container.uow(), reply_token=invitation.reply_token)
    assert pending is not None and pending.intent == "decline" and pending.decline == ("invoice",)
