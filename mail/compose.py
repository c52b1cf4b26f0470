"""Composing outbound mail: invitations, reminders and confirmations, as multipart/alternative
(plain text + HTML) in the invitation's language."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from tautan.core.i18n import Translator, translator
from tautan.core.outbox import OutboxItem
from tautan.core.model import InvitationStatus, Status
from tautan.core.transitions import STATUS_LABELS
from tautan.core.views import DOCUMENT_TYPE_LABELS, INVITATION_STATUS_LABELS, InvitationView
from tautan.mail.links import invitation_url, reply_address, unsubscribe_url
from tautan.mail.onboarding import onboarding_text
from tautan.mail.templating import render

# Header lines may be 998 characters (RFC 5322); folding at 78 would turn the long, signed
# List-Unsubscribe address into encoded words that mail clients do not read as a URL.
WIRE = SMTP.clone(max_line_length=998)

INVITATION_KINDS = ("invitation", "reminder")
CONFIRMATION_KINDS = ("accepted", "declined")
# Answers to someone who wrote to us (mail/inbound.py): unclear replies, HELP, STATUS, requests.
ANSWER_KINDS = ("answer_unclear", "answer_help", "answer_status", "answer_other_sender", "answer_closed",
                "answer_expired", "request_confirm", "request_unknown")


@dataclass(frozen=True)
class DkimKey:
    selector: str
    domain: str
    private_key: bytes


@dataclass(frozen=True)
class MailConfig:
    mail_domain: str
    mail_from: str
    public_base_url: str
    secret_keys: Sequence[str]
    dkim: DkimKey | None = None


@dataclass(frozen=True)
class Outgoing:
    """A message ready for the relay: its bytes and its envelope."""

    message: EmailMessage
    envelope_from: str
    recipients: tuple[str, ...]

    def as_bytes(self, dkim: DkimKey | None = None) -> bytes:
        data = self.message.as_bytes(policy=WIRE)
        if dkim is None:
            return data
        import dkim as dkimpy

        signature = dkimpy.sign(data, dkim.selector.encode(), dkim.domain.encode(), dkim.private_key,
                                include_headers=[b"from", b"to", b"subject", b"date", b"message-id",
                                                 b"reply-to", b"list-unsubscribe", b"list-unsubscribe-post",
                                                 b"mime-version", b"content-type"])
        return signature + data


def bounce_address(reply_token: str, mail_domain: str) -> str:
    """The envelope sender (VERP): a bounce to it says which invitation did not arrive."""
    return f"bounces+{reply_token}@{mail_domain}"


def compose(item: OutboxItem, config: MailConfig, *, now: dt.datetime) -> Outgoing:
    """The message for one outbox row. The Message-ID is derived from the row, so a retry after
    a crash sends the same message, which receiving servers can recognise as a duplicate."""
    if item.kind in ANSWER_KINDS:
        return _compose_answer(item, config, now=now)
    invitation = item.invitation
    if invitation is None or item.kind not in INVITATION_KINDS + CONFIRMATION_KINDS:
        raise ValueError(f"no email for outbox kind {item.kind!r}")
    t = translator(item.lang)
    context = _context(t, invitation, config)
    if item.kind in INVITATION_KINDS:
        reminder = item.kind == "reminder"
        subject = (t("Reminder: {customer} invites you to connect on tautan", customer=context["customer"])
                   if reminder else t("{customer} invites you to connect on tautan", customer=context["customer"]))
        template = "invitation"
        context.update(reminder=reminder)
    else:
        subject = (t("You are now connected with {customer}", customer=context["customer"])
                   if item.kind == "accepted"
                   else t("You declined the invitation from {customer}", customer=context["customer"]))
        template = "answered"
        context.update(kind=item.kind, onboarding=onboarding_text(t, item.payload.get("onboarding"),
                                                                  customer=str(context["customer"])))

    message = _headers(item, config, t, now=now, subject=subject,
                       sender_name=t("{customer} via tautan", customer=context["customer"]),
                       reply_to=reply_address(invitation.reply_token, config.mail_domain))
    if item.kind in INVITATION_KINDS:
        # RFC 2369 and RFC 8058: a one-click way to stop invitations from this customer.
        message["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    _body(message, t, template, subject=subject, **context)
    return Outgoing(message=message, envelope_from=bounce_address(invitation.reply_token, config.mail_domain),
                    recipients=(invitation.email,))


def _compose_answer(item: OutboxItem, config: MailConfig, *, now: dt.datetime) -> Outgoing:
    t = translator(item.lang)
    payload = item.payload
    context: dict[str, object] = {"kind": item.kind, **payload}
    invitation = item.invitation
    if invitation is not None:
        context.update(_context(t, invitation, config))
        context.update(status=t(INVITATION_STATUS_LABELS[InvitationStatus(invitation.status)].message_id),
                       expired=t.date(invitation.expires_at))
    if item.kind == "answer_status":
        context["connections"] = [
            t("{customer}: {type}, {status}", customer=customer, type=t(DOCUMENT_TYPE_LABELS[code].message_id),
              status=t(STATUS_LABELS[Status(status)].message_id))
            for customer, code, status in payload.get("connections", [])]
    context.setdefault("button", None)
    original = str(payload.get("original_subject") or "")
    if item.kind == "request_confirm":
        subject = t("Confirm your request to connect with {customer}", customer=payload.get("customer", ""))
    elif original:
        subject = original if original.lower().startswith("re:") else f"Re: {original}"
    else:
        subject = t("Your message to tautan")
    message = _headers(item, config, t, now=now, subject=subject, sender_name="tautan",
                       reply_to=reply_address(invitation.reply_token, config.mail_domain) if invitation else None,
                       auto_submitted="auto-replied")
    in_reply_to = str(payload.get("in_reply_to") or "")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    _body(message, t, "answer", subject=subject, **context)
    # Automatic answers go out with a null envelope sender (RFC 3834): a bounce of an answer is
    # dropped instead of starting a conversation between two robots, or marking the invitation.
    return Outgoing(message=message, envelope_from="", recipients=(item.recipient,))


def _headers(item: OutboxItem, config: MailConfig, t: Translator, *, now: dt.datetime, subject: str,
             sender_name: str, reply_to: str | None, auto_submitted: str = "auto-generated") -> EmailMessage:
    message = EmailMessage()
    message["From"] = Address(display_name=one_line(sender_name), addr_spec=config.mail_from)
    message["To"] = Address(addr_spec=item.recipient)
    if reply_to:
        message["Reply-To"] = Address(addr_spec=reply_to)
    message["Subject"] = one_line(subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<tautan.{item.id}.{item.created_at:%Y%m%d%H%M%S}@{config.mail_domain}>"
    message["Auto-Submitted"] = auto_submitted
    return message


def _body(message: EmailMessage, t: Translator, template: str, /, **context: object) -> None:
    message.set_content(render(f"email/{template}.txt", t, **context))
    message.add_alternative(render(f"email/{template}.html", t, **context), subtype="html")
    message["Content-Language"] = t.locale  # after the body: setting content clears Content-* headers


def _context(t: Translator, invitation: InvitationView, config: MailConfig) -> dict[str, object]:
    return {
        "customer": invitation.customer,
        "customer_root": invitation.customer_root,
        "supplier": invitation.supplier,
        "email": invitation.email,
        "message": invitation.message,
        "types": t.list(t(DOCUMENT_TYPE_LABELS[c].message_id) for c in invitation.types),
        "expires": t.date(invitation.expires_at),
        "accept_url": invitation_url(config.public_base_url, config.secret_keys, invitation.id,
                                     invitation.reply_token),
        "unsubscribe_url": unsubscribe_url(config.public_base_url, config.secret_keys, invitation.id,
                                           invitation.reply_token),
        "join_url": config.public_base_url.rstrip("/") + invitation.join_path if invitation.join_path else "",
    }


_BREAKS = re.compile(r"[\r\n\x00-\x1f\x7f\u2028\u2029\x85]+")


def one_line(text: str) -> str:
    """Header text on one line: a name or subject never carries a line break into the header block.

    A literal ``=?`` gets a zero-width space, so text that looks like an RFC 2047 encoded word is
    shown as typed instead of being decoded by the reader's mail client."""
    return _BREAKS.sub(" ", text).strip().replace("=?", "=\u200b?")
