"""Mail that stays one conversation: reminders, confirmations and automatic answers carry
In-Reply-To/References to the invitation (and to the supplier's message); invitations ask
Exchange for no automatic replies. Sent by the real worker to a real SMTP sink."""

from __future__ import annotations

from tautan.core import services
from tautan.mail.transport import SmtpTransport
from tautan.worker import Worker
from tests.support import factories as f


def test_reminders_confirmations_and_answers_follow_the_invitation(container, smtp_sink, clock) -> None:  # noqa: ANN001
    handler, port = smtp_sink
    worker = Worker.from_container(container, SmtpTransport(f"smtp://127.0.0.1:{port}", timeout=5))
    uow = container.uow()
    f.companies(uow)
    invitation = f.invite(uow)
    worker.run_once()
    clock.advance(days=4)
    services.remind(uow)
    services.answer(uow, recipient=f.EMAIL, kind="answer_help", lang="en", invitation_id=invitation.id,
                    original_subject="Re: undangan", in_reply_to="<question@pt-maju.co.id>")
    worker.run_once()
    services.accept(uow, invitation_id=invitation.id, actor=f.CONTACT, via="email")
    worker.run_once()
    first, reminder, answer, confirmation = handler.messages()
    assert first["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert "In-Reply-To" not in first and "References" not in first
    origin = first["Message-ID"]
    assert reminder["In-Reply-To"] == origin and reminder["References"] == origin
    assert confirmation["In-Reply-To"] == origin and confirmation["References"] == origin
    assert answer["In-Reply-To"] == "<question@pt-maju.co.id>"
    assert answer["References"] == f"{origin} <question@pt-maju.co.id>"
