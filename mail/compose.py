"""Composing outbound mail: invitations, reminders and confirmations, as multipart/alternative
(plain text + HTML) in the invitation's language."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.charset import Charset
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from tautan.core.i18n import Translator, translator
from tautan.core.outbox import OutboxItem
from tautan.core.model import InvitationStatus, Status
from tautan.core.transitions import STATUS_LABELS
from tautan.core.views import DOCUMENT_TYPE_LABELS, INVITATION_STATUS_LABELS, InvitationView
from tautan.mail.links import invitation_url, reply_address, unsubscribe_url
from tautan.mail.templating import render

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
    """A message ready for the relay: its header fields and body on the wire, and its envelope."""

    headers: tuple[tuple[str, str], ...]
    body: bytes
    envelope_from: str
    recipients: tuple[str, ...]

    def as_bytes(self, dkim: DkimKey | None = None) -> bytes:
        head = "".join(f"{name}: {value}\r\n" for name, value in self.headers).encode("ascii")
        data = head + b"\r\n" + self.body
        if dkim is None:
            return data
        return dkim_signature(self.headers, self.body, dkim) + data

    @property
    def message(self) -> EmailMessage:
        """The message parsed back (for reading it in tests and tools; the wire form is ``as_bytes``)."""
        parsed = message_from_bytes(self.as_bytes(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


# The headers a DKIM signature covers. The ones a forger would most like to change or add are
# listed twice (over-signing): a second From, Subject, Reply-To or List-Unsubscribe added in
# transit then breaks the signature instead of being shown to the reader.
DKIM_HEADERS = ("from", "to", "subject", "date", "message-id", "reply-to", "list-unsubscribe",
                "list-unsubscribe-post", "mime-version", "content-type", "content-language",
                "from", "subject", "reply-to", "list-unsubscribe")
_WSP = re.compile(rb"[ \t]+")
_WSP_TEXT = re.compile(r"[ \t\r\n]+")


def dkim_signature(headers: Sequence[tuple[str, str]], body: bytes, key: DkimKey) -> bytes:
    """A ``DKIM-Signature`` header line (RFC 6376, rsa-sha256, relaxed/relaxed) for this message.

    Built here rather than by a DKIM library because we wrote the headers ourselves: there is
    nothing to parse, and one RSA signature from ``cryptography`` is a fraction of the cost."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    body_hash = base64.b64encode(hashlib.sha256(_relaxed_body(body)).digest()).decode()
    signed = DKIM_HEADERS  # absent ones too: adding such a header later breaks the signature
    fields = (f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={key.domain}; s={key.selector};\r\n"
              f" h={':'.join(signed)};\r\n bh={body_hash};\r\n b=")
    data = bytearray()
    remaining: dict[str, list[str]] = {}
    for name, value in headers:
        remaining.setdefault(name.lower(), []).append(value)
    for name in signed:  # each listed name takes the next instance from the bottom; none left: nothing
        if remaining.get(name):
            data += _relaxed_header(name, remaining[name].pop())
    data += _relaxed_header("dkim-signature", fields)[:-2]
    signature = _private_key(key.private_key).sign(bytes(data), padding.PKCS1v15(), hashes.SHA256())
    return f"DKIM-Signature: {fields}{base64.b64encode(signature).decode()}\r\n".encode("ascii")


def _relaxed_header(name: str, value: str) -> bytes:
    return f"{name}:{_WSP_TEXT.sub(' ', value).strip()}\r\n".encode("ascii")


def _relaxed_body(body: bytes) -> bytes:
    lines = [_WSP.sub(b" ", line).rstrip(b" ") for line in body.split(b"\r\n")]
    while lines and not lines[-1]:
        lines.pop()
    return b"".join(line + b"\r\n" for line in lines)


@functools.lru_cache(maxsize=4)
def _private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return load_pem_private_key(pem, password=None)


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
        context.update(kind=item.kind)

    headers = _headers(item, config, now=now, subject=subject,
                       sender_name=t("{customer} via tautan", customer=context["customer"]),
                       reply_to=reply_address(invitation.reply_token, config.mail_domain))
    if item.kind in INVITATION_KINDS:
        # RFC 2369 and RFC 8058: a one-click way to stop invitations from this customer.
        headers.append(("List-Unsubscribe", f"<{context['unsubscribe_url']}>"))
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    body = _body(headers, t, template, subject=subject, **context)
    return Outgoing(headers=tuple(headers), body=body,
                    envelope_from=bounce_address(invitation.reply_token, config.mail_domain),
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
    headers = _headers(item, config, now=now, subject=subject, sender_name="tautan",
                       reply_to=reply_address(invitation.reply_token, config.mail_domain) if invitation else None,
                       auto_submitted="auto-replied")
    in_reply_to = one_line(str(payload.get("in_reply_to") or ""))
    if in_reply_to and in_reply_to.isascii():  # a Message-ID is ASCII; anything else is not threaded
        headers.append(("In-Reply-To", in_reply_to))
        headers.append(("References", in_reply_to))
    body = _body(headers, t, "answer", subject=subject, **context)
    # Automatic answers go out with a null envelope sender (RFC 3834): a bounce of an answer is
    # dropped instead of starting a conversation between two robots, or marking the invitation.
    return Outgoing(headers=tuple(headers), body=body, envelope_from="", recipients=(item.recipient,))


# Header lines may be 998 characters (RFC 5322): the long, signed List-Unsubscribe address is
# written on one line, never folded into encoded words that mail clients do not read as a URL.
def _headers(item: OutboxItem, config: MailConfig, *, now: dt.datetime, subject: str,
             sender_name: str, reply_to: str | None, auto_submitted: str = "auto-generated") -> list[tuple[str, str]]:
    headers = [("From", _address(config.mail_from, one_line(sender_name))), ("To", _address(item.recipient))]
    if reply_to:
        headers.append(("Reply-To", _address(reply_to)))
    headers += [("Subject", _text(one_line(subject))), ("Date", format_datetime(now)),
                ("Message-ID", f"<tautan.{item.id}.{item.created_at:%Y%m%d%H%M%S}@{config.mail_domain}>"),
                ("Auto-Submitted", auto_submitted)]
    return headers


# The message is written out directly rather than through ``email.message.EmailMessage``: its
# header objects and generator cost several milliseconds a message, most of the worker's time,
# for a layout that never changes (headers, then multipart/alternative with text and HTML).
_UTF8 = Charset("utf-8")
_WORD = 24  # characters per encoded word: RFC 2047 keeps each word within 75 bytes


def _text(value: str) -> str:
    """Unstructured header text: as is in ASCII, else RFC 2047 encoded words, folded between them."""
    if value.isascii():
        return value
    return "\r\n ".join(_UTF8.header_encode(value[i:i + _WORD]) for i in range(0, len(value), _WORD))


_SPECIALS = re.compile(r'[][\\()<>@,:;".]')


@functools.lru_cache(maxsize=1024)
def _address(addr_spec: str, display_name: str = "") -> str:
    if not display_name:
        return addr_spec
    if not display_name.isascii():
        return f"{_text(display_name)} <{addr_spec}>"
    return formataddr((display_name, addr_spec)) if _SPECIALS.search(display_name) else f"{display_name} <{addr_spec}>"


def _body(headers: list[tuple[str, str]], t: Translator, template: str, /, **context: object) -> bytes:
    """Add the MIME headers and return the body: multipart/alternative, plain text then HTML."""
    boundary = f"=_tautan_{secrets.token_hex(12)}"
    headers += [("MIME-Version", "1.0"), ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
                ("Content-Language", t.locale)]
    parts = [_part("plain", render(f"email/{template}.txt", t, **context)),
             _part("html", render(f"email/{template}.html", t, **context))]
    marker = f"--{boundary}\r\n".encode("ascii")
    return b"".join(marker + part for part in parts) + f"--{boundary}--\r\n".encode("ascii")


def _part(subtype: str, content: str) -> bytes:
    lines = content.replace("\r\n", "\n").replace("\r", "\n")
    if not lines.endswith("\n"):
        lines += "\n"
    if lines.isascii() and max(map(len, lines.split("\n"))) <= 900:
        encoding, data = "7bit", lines.encode("ascii")
    else:  # quoted-printable keeps text readable in the raw message, and lines short
        encoding, data = "quoted-printable", binascii.b2a_qp(lines.encode("utf-8"), istext=True)
    head = (f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n").encode("ascii")
    return head + data.replace(b"\n", b"\r\n")


def _context(t: Translator, invitation: InvitationView, config: MailConfig) -> dict[str, object]:
    return {
        "customer": invitation.customer,
        "customer_root": invitation.customer_root,
        "supplier": invitation.supplier,
        "email": invitation.email,
        "message": invitation.message,
        "types": _types_text(t, tuple(invitation.types)),
        "expires": _date_text(t, invitation.expires_at.date()),
        "accept_url": invitation_url(config.public_base_url, config.secret_keys, invitation.id,
                                     invitation.reply_token),
        "unsubscribe_url": unsubscribe_url(config.public_base_url, config.secret_keys, invitation.id,
                                           invitation.reply_token),
    }


# The same few texts recur in every message of a batch: formatted once per language.
@functools.lru_cache(maxsize=1024)
def _types_text(t: Translator, types: tuple[str, ...]) -> str:
    return t.list(t(DOCUMENT_TYPE_LABELS[c].message_id) for c in types)


@functools.lru_cache(maxsize=1024)
def _date_text(t: Translator, day: dt.date) -> str:
    return t.date(day)


_BREAKS = re.compile(r"[\r\n\x00-\x1f\x7f\u2028\u2029\x85]+")


def one_line(text: str) -> str:
    """Header text on one line: a name or subject never carries a line break into the header block.

    A literal ``=?`` gets a zero-width space, so text that looks like an RFC 2047 encoded word is
    shown as typed instead of being decoded by the reader's mail client."""
    return _BREAKS.sub(" ", text).strip().replace("=?", "=\u200b?")
