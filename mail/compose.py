"""Composing outbound mail: invitations, reminders and confirmations, as multipart/alternative
(plain text + HTML) in the invitation's language."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime

from tautan.core.i18n import Translator, translator
from tautan.core.model import InvitationStatus, Status
from tautan.core.outbox import OutboxItem
from tautan.core.transitions import STATUS_LABELS
from tautan.core.views import (
    DOCUMENT_TYPE_LABELS,
    DOCUMENT_TYPE_PLURAL_LABELS,
    INVITATION_STATUS_LABELS,
    InvitationView,
)
from tautan.mail.links import invitation_url, reply_address, sign_in_url, supplier_page_url, unsubscribe_url
from tautan.mail.onboarding import onboarding_text
from tautan.mail.signing import sign
from tautan.mail.templating import render, render_filled
from tautan.mail.wire import Fields, Mailbox, header_block, write

INVITATION_KINDS = ("invitation", "reminder")
CONFIRMATION_KINDS = ("accepted", "declined")
# Answers to someone who wrote to us (mail/inbound.py): unclear replies, HELP, STATUS, requests.
ANSWER_KINDS = ("answer_unclear", "answer_help", "answer_status", "answer_other_sender", "answer_closed",
                "answer_expired", "request_confirm", "request_unknown", "answer_confirm", "answer_confirm_refused")
# Answers about how a reply was read (a confirmation question, a refused one): their own template.
READING_KINDS = ("answer_confirm", "answer_confirm_refused")

# The supplier page's mail: a sign-in link, a customer's decision, a colleague added as a contact.
SUPPLIER_KINDS = ("sign_in", "decision", "contact_added")


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
    """A message ready for the relay: its header fields (as written on the wire), its body, and
    its envelope."""

    headers: tuple[tuple[str, str], ...]
    body: bytes
    envelope_from: str
    recipients: tuple[str, ...]

    def as_bytes(self, dkim: DkimKey | None = None) -> bytes:
        data = header_block(self.headers) + self.body
        if dkim is None:
            return data
        # relaxed/relaxed survives relays that refold headers or rewrap whitespace; the headers a
        # reader trusts are over-signed, so one added in transit breaks the signature.
        signature = sign(self.headers, self.body, domain=dkim.domain, selector=dkim.selector,
                         private_key=dkim.private_key, signed=SIGNED, oversigned=OVERSIGNED)
        return signature.encode("ascii") + data

    @functools.cached_property
    def message(self) -> EmailMessage:
        """The message read back by the standard library (for tests and tools; the relay gets
        ``as_bytes``)."""
        parsed = message_from_bytes(self.as_bytes(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


OVERSIGNED = ("from", "subject", "reply-to", "list-unsubscribe")
SIGNED = ("to", "date", "message-id", "list-unsubscribe-post", "mime-version", "content-type",
          "content-language", "auto-submitted", "in-reply-to", "references")


def bounce_address(reply_token: str, mail_domain: str) -> str:
    """The envelope sender (VERP): a bounce to it says which invitation did not arrive."""
    return f"bounces+{reply_token}@{mail_domain}"


def compose(item: OutboxItem, config: MailConfig, *, now: dt.datetime) -> Outgoing:
    """The message for one outbox row. The Message-ID is derived from the row, so a retry after
    a crash sends the same message, which receiving servers can recognise as a duplicate."""
    if item.kind in ANSWER_KINDS:
        return _compose_answer(item, config, now=now)
    if item.kind in SUPPLIER_KINDS:
        return _compose_supplier(item, config, now=now)
    invitation = item.invitation
    if invitation is None or item.kind not in INVITATION_KINDS + CONFIRMATION_KINDS:
        raise ValueError(f"no email for outbox kind {item.kind!r}")
    t = translator(item.lang)
    context = _context(t, invitation, config)
    if item.kind in INVITATION_KINDS:
        reminder = item.kind == "reminder"
        plural = _types(t, tuple(invitation.types), plural=True)
        subject = (t("Reminder: invitation from {customer} to send {types} electronically",
                     customer=context["customer"], types=plural)
                   if reminder else t("Invitation from {customer}: send {types} electronically",
                                      customer=context["customer"], types=plural))
        template = "invitation"
        context.update(reminder=reminder, types=plural,
                       preheader=t("{customer} invites {supplier} to exchange {types} electronically. "
                                   "Free for suppliers.", customer=context["customer"],
                                   supplier=context["supplier"], types=plural))
    else:
        subject = (t("You are now connected with {customer}", customer=context["customer"])
                   if item.kind == "accepted"
                   else t("You declined the invitation from {customer}", customer=context["customer"]))
        template = "answered"
        context.update(kind=item.kind, onboarding=onboarding_text(t, item.payload.get("onboarding"),
                                                                  customer=str(context["customer"])))
        if item.payload.get("types"):  # a partial answer: the types it answered, not all of them
            context["types"] = _type_list(t, item.payload["types"])

    fields = _headers(item, config, now=now, subject=subject,
                      sender_name=t("{customer} via Tautan", customer=context["customer"]),
                      reply_to=reply_address(invitation.reply_token, config.mail_domain))
    if item.kind in INVITATION_KINDS:
        # RFC 2369 and RFC 8058: a one-click way to stop invitations from this customer.
        fields.append(("List-Unsubscribe", f"<{context['unsubscribe_url']}>"))
        fields.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        # Exchange sends no out-of-office or other automatic reply to this.
        fields.append(("X-Auto-Response-Suppress", "OOF, AutoReply"))
    _thread(fields, item, config)
    return _outgoing(fields, t, template, {**context, "subject": subject},
                     envelope_from=bounce_address(invitation.reply_token, config.mail_domain),
                     recipients=(invitation.email,), fill=INVITATION_TEXTS if template == "invitation" else ())


def _compose_answer(item: OutboxItem, config: MailConfig, *, now: dt.datetime) -> Outgoing:
    t = translator(item.lang)
    payload = item.payload
    context: dict[str, object] = {"kind": item.kind, **payload}
    invitation = item.invitation
    if invitation is not None:
        context.update(_context(t, invitation, config))
        context.update(status=t(INVITATION_STATUS_LABELS[InvitationStatus(invitation.status)].message_id),
                       expired=_day(t, invitation.expires_at))
    if item.kind == "answer_status":
        context["connections"] = [
            t("{customer}: {type}, {status}", customer=customer, type=t(DOCUMENT_TYPE_LABELS[code].message_id),
              status=t(STATUS_LABELS[Status(status)].message_id))
            for customer, code, status in payload.get("connections", [])]
    if item.kind == "answer_confirm":
        context.update(accept_types=_type_list(t, payload.get("accept")),
                       decline_types=_type_list(t, payload.get("decline")))
    context.setdefault("button", None)
    context["supplier_page_url"] = supplier_page_url(config.public_base_url)
    original = str(payload.get("original_subject") or "")
    if item.kind == "request_confirm":
        subject = t("Confirm your request to connect with {customer}", customer=payload.get("customer", ""))
    elif original:
        subject = original if original.lower().startswith("re:") else f"Re: {original}"
    else:
        subject = t("Your message to Tautan")
    fields = _headers(item, config, now=now, subject=subject, sender_name="tautan",
                      reply_to=reply_address(invitation.reply_token, config.mail_domain) if invitation else None,
                      auto_submitted="auto-replied")
    _thread(fields, item, config, answering=str(payload.get("in_reply_to") or ""))
    # Automatic answers go out with a null envelope sender (RFC 3834): a bounce of an answer is
    # dropped instead of starting a conversation between two robots, or marking the invitation.
    return _outgoing(fields, t, "answer_reading" if item.kind in READING_KINDS else "answer",
                     {**context, "subject": subject}, envelope_from="", recipients=(item.recipient,))


def _headers(item: OutboxItem, config: MailConfig, *, now: dt.datetime, subject: str, sender_name: str,
             reply_to: str | None, auto_submitted: str = "auto-generated") -> Fields:
    fields: Fields = [("From", Mailbox(config.mail_from, one_line(sender_name))), ("To", Mailbox(item.recipient))]
    if reply_to:
        fields.append(("Reply-To", Mailbox(reply_to)))
    fields += [("Subject", one_line(subject)), ("Date", format_datetime(now)),
               ("Message-ID", message_id(item.id, item.created_at, config.mail_domain)),
               ("Auto-Submitted", auto_submitted)]
    return fields


def message_id(row_id: int, created_at: dt.datetime, mail_domain: str) -> str:
    """The Message-ID of an outbox row's email: the same on every retry of that row."""
    return f"<tautan.{row_id}.{created_at:%Y%m%d%H%M%S}@{mail_domain}>"


def _thread(fields: Fields, item: OutboxItem, config: MailConfig, *, answering: str = "") -> None:
    """In-Reply-To and References (RFC 5322 §3.6.4): reminders, confirmations and answers follow
    the invitation email (and the supplier's message they answer), so the mailbox shows one
    conversation."""
    references = []
    if item.thread is not None and item.thread[0] != item.id:
        references.append(message_id(*item.thread, config.mail_domain))
    if answering.startswith("<") and answering not in references:
        references.append(answering)
    if references:
        fields.append(("In-Reply-To", references[-1]))
        fields.append(("References", " ".join(references)))


# What the invitation templates only print: invitations, sent by the thousand, are rendered once
# per language and shape (reminder or not, the inviter's message), these texts filled in after.
INVITATION_TEXTS = frozenset({"customer", "customer_root", "supplier", "email", "inviter_name", "inviter_line",
                              "types", "expires", "accept_url", "unsubscribe_url", "supplier_page_url", "join_url",
                              "preheader", "subject"})


def _outgoing(fields: Fields, t: Translator, template: str, context: dict[str, object], *, envelope_from: str,
              recipients: tuple[str, ...], fill: Collection[str] = ()) -> Outgoing:
    """The message: the header fields, then plain text and HTML from the template, in the reader's
    language (MIME-Version, Content-Type and Content-Language are added by ``write``)."""
    text, html = ((render_filled(f"email/{template}.txt", t, fill, **context),
                   render_filled(f"email/{template}.html", t, fill, **context)) if fill
                  else (render(f"email/{template}.txt", t, **context), render(f"email/{template}.html", t, **context)))
    headers, body = write(fields, text, html, language=t.locale)
    return Outgoing(headers=headers, body=body, envelope_from=envelope_from, recipients=recipients)


def inviter(invitation: InvitationView) -> tuple[str | None, str | None]:
    """The inviter's name and address as the supplier may read them: what the invite stored, else
    what the actor id tells (``email:ana@…`` is an address, ``cli:ana`` a name). A Slack id never
    reaches the email: it means nothing outside the customer's workspace."""
    name, email = invitation.inviter_name, invitation.inviter_email
    kind, _, who = invitation.inviter.partition(":")
    if kind == "email" and who and not email:
        email = who
    elif kind == "cli" and who and not name and "@" not in who:
        name = who
    elif kind == "cli" and "@" in who and not email:
        email = who
    return name, email


def inviter_line(t: Translator, invitation: InvitationView) -> str:
    """Who sent the invitation and how to reach them, in one sentence."""
    name, email = inviter(invitation)
    customer = invitation.customer
    if name and email:
        return t("{name} at {customer} sent you this invitation. Questions? Write to {email}.",
                 name=name, customer=customer, email=email)
    if email:
        return t("This invitation was sent by {email} at {customer}. Questions? Write to that address.",
                 email=email, customer=customer)
    if name:
        return t("{name} at {customer} sent you this invitation. Questions? Contact them at {customer}.",
                 name=name, customer=customer)
    return t("If you have questions about this invitation, please contact {customer} directly.", customer=customer)


def _context(t: Translator, invitation: InvitationView, config: MailConfig) -> dict[str, object]:
    return {
        "customer": invitation.customer,
        "customer_root": invitation.customer_root,
        "supplier": invitation.supplier,
        "email": invitation.email,
        "message": invitation.message,
        "inviter_name": inviter(invitation)[0],
        "inviter_line": inviter_line(t, invitation),
        "types": _types(t, tuple(invitation.types)),
        "expires": _day(t, invitation.expires_at),
        "accept_url": invitation_url(config.public_base_url, config.secret_keys, invitation.id,
                                     invitation.reply_token),
        "unsubscribe_url": unsubscribe_url(config.public_base_url, config.secret_keys, invitation.id,
                                           invitation.reply_token),
        "supplier_page_url": supplier_page_url(config.public_base_url),
        "join_url": config.public_base_url.rstrip("/") + invitation.join_path if invitation.join_path else "",
    }


def _compose_supplier(item: OutboxItem, config: MailConfig, *, now: dt.datetime) -> Outgoing:
    t = translator(item.lang)
    payload = item.payload
    page_url = supplier_page_url(config.public_base_url)
    context: dict[str, object] = {"kind": item.kind, "email": item.recipient, "supplier_page_url": page_url,
                                  "supplier": payload.get("supplier", ""), "reason": payload.get("reason")}
    customer = str(payload.get("customer", ""))
    if item.kind == "sign_in":
        subject = t("Your sign-in link for Tautan")
        context.update(link=sign_in_url(config.public_base_url, config.secret_keys, str(payload["nonce"])),
                       minutes=30)
    elif item.kind == "contact_added":
        subject = t("You can now act for {supplier} on Tautan", supplier=payload.get("supplier", ""))
        context.update(added_by=payload.get("added_by", ""))
    else:
        decision = str(payload.get("decision"))
        subject = {
            "approved": t("{customer} approved your request to connect", customer=customer),
            "denied": t("{customer} declined your request to connect", customer=customer),
            "cancelled": t("{customer} withdrew its invitation", customer=customer),
            "disconnected": t("{customer} ended the connection", customer=customer),
            "waiting": t("Your request to {customer} is still waiting", customer=customer),
        }[decision]
        ids = [int(i) for i in payload.get("connection_ids", [])]
        context.update(decision=decision, customer=customer,
                       types=t.list(t(DOCUMENT_TYPE_LABELS[c].message_id) if c in DOCUMENT_TYPE_LABELS else c
                                    for c in payload.get("types", [])),
                       # The next step: asking again, after the supplier signs in (a GET changes nothing).
                       next_url=f"{page_url}/connections/{ids[0]}" if ids else page_url,
                       onboarding=onboarding_text(t, payload.get("onboarding"), customer=customer)
                       if decision == "approved" else None)
    fields = _headers(item, config, now=now, subject=subject, sender_name="Tautan", reply_to=None)
    thread = payload.get("thread")
    if isinstance(thread, list) and len(thread) == 2:
        original = f"<tautan.{int(thread[0])}.{thread[1]}@{config.mail_domain}>"
        fields.append(("In-Reply-To", original))
        fields.append(("References", original))
    return _outgoing(fields, t, "supplier", {**context, "subject": subject}, envelope_from=config.mail_from,
                     recipients=(item.recipient,))


def _type_list(t: Translator, codes: object) -> str:
    """Document type codes as the reader's words, as a list ("invoices and orders")."""
    known = [c for c in (codes if isinstance(codes, (list, tuple)) else []) if c in DOCUMENT_TYPE_LABELS]
    return _types(t, tuple(known)) if known else ""


# The same few texts recur in every message of a batch (the document types, the expiry day):
# Babel formats each once per language.
@functools.lru_cache(maxsize=1024)
def _types(t: Translator, codes: tuple[str, ...], *, plural: bool = False) -> str:
    labels = DOCUMENT_TYPE_PLURAL_LABELS if plural else DOCUMENT_TYPE_LABELS
    return t.list(t(labels[c].message_id) for c in codes)


def _day(t: Translator, moment: dt.datetime) -> str:
    return _formatted_day(t, moment.date())  # Babel formats a datetime's date as is, without its zone


@functools.lru_cache(maxsize=1024)
def _formatted_day(t: Translator, day: dt.date) -> str:
    return t.date(day)


_BREAKS = re.compile(r"[\r\n\x00-\x1f\x7f\u2028\u2029\x85]+")


def one_line(text: str) -> str:
    """Header text on one line: a name or subject never carries a line break into the header block.

    A literal ``=?`` gets a zero-width space, so text that looks like an RFC 2047 encoded word is
    shown as typed instead of being decoded by the reader's mail client."""
    return _BREAKS.sub(" ", text).strip().replace("=?", "=\u200b?")


def warm_up(config: MailConfig, *, now: dt.datetime) -> int:
    """Compose one message of each template in each language, and throw them away: the catalogs
    and templates are loaded and compiled when a worker starts, not while it sends its first
    batch. Returns how many messages were composed (a sample invitation, nothing is stored)."""
    from tautan.core.i18n import SUPPORTED_LOCALES
    from tautan.core.views import ConnectionView

    composed = 0
    for lang in SUPPORTED_LOCALES:
        connection = ConnectionView(id=0, customer_id=0, customer="PT Contoh", supplier_id=0, supplier="PT Contoh",
                                    type="invoice", status="invited", invitation_id=0, created_at=now,
                                    updated_at=now)
        view = InvitationView(
            id=0, customer_id=0, customer="PT Contoh", customer_root="PT Contoh", unit=None, supplier_id=0,
            supplier="PT Contoh", email="contoh@contoh.co.id", lang=lang, message=None, inviter="system",
            reply_token="0" * 32, status="pending", created_at=now, invited_at=now, expires_at=now, closed_at=None,
            last_sent_at=None, reminders_sent=0, connections=(connection,))
        samples: tuple[tuple[str, dict[str, object]], ...] = (
            ("invitation", {}), ("reminder", {}), ("accepted", {}), ("answer_unclear", {}),
            ("answer_confirm", {"intent": "accept", "accept": ["invoice"], "decline": []}),
            ("sign_in", {"nonce": "0"}))
        for kind, payload in samples:
            item = OutboxItem(id=0, channel="email", kind=kind, recipient=view.email, lang=lang, attempts=0,
                              created_at=now, invitation=view, payload=payload)
            compose(item, config, now=now).as_bytes(config.dkim)
            composed += 1
    return composed
