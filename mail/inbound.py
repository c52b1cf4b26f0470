"""Inbound mail: one pipeline for both transports (the SMTP server and the IMAP poller).

``receive`` stores the raw message (before the transport acknowledges it); ``process_pending``
takes stored messages and hands each to ``process_message``, which reads it and acts through the
services. Machine mail (bounces, auto-replies) never changes a connection and never gets an
answer; people get a localized answer where one helps, within a rate limit.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email import policy
from email.errors import (
    CloseBoundaryNotFoundDefect,
    MissingHeaderBodySeparatorDefect,
    MultipartInvariantViolationDefect,
    NoBoundaryInMultipartDefect,
    StartBoundaryNotFoundDefect,
)
from email.headerregistry import BaseHeader
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses
from typing import TYPE_CHECKING, cast

from tautan.core import inbox, services
from tautan.core.errors import (
    ConcurrentChange,
    InvalidInput,
    InvitationClosed,
    InvitationExpired,
    NotFound,
    Unavailable,
)
from tautan.core.freemail import is_free_mail
from tautan.core.uow import UnitOfWork
from tautan.core.views import InvitationView
from tautan.mail.compose import ANSWER_KINDS, MailConfig
from tautan.mail.links import REQUEST_LINK_TTL, request_url
from tautan.mail.understand import Reading, read

log = logging.getLogger(__name__)

TOKEN = re.compile(r"[0-9a-f]{32}")
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
STRUCTURAL_DEFECTS = (NoBoundaryInMultipartDefect, StartBoundaryNotFoundDefect, CloseBoundaryNotFoundDefect,
                      MultipartInvariantViolationDefect, MissingHeaderBodySeparatorDefect)


if TYPE_CHECKING:
    _EmailPolicy = EmailPolicy[EmailMessage]
else:
    _EmailPolicy = EmailPolicy


class _ReadingPolicy(_EmailPolicy):
    """``email.policy.default``, except that a header's value is parsed into its object once, not
    on every read: reading a reply asks for its Content-Type a dozen times, and parsing it again
    each time was a fifth of the cost of processing a reply. Header objects are immutable."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        if hasattr(value, "name"):  # already a header object (set by a program, not parsed)
            return value
        return _parsed_header(name, value)


READING = _ReadingPolicy()
_LINE_BREAK = re.compile(r"\n|\r")  # only these: str.splitlines splits on more


@functools.lru_cache(maxsize=4096)
def _parsed_header(name: str, value: str) -> BaseHeader:
    return cast(BaseHeader, READING.header_factory(name, _LINE_BREAK.sub("", value)))  # as policy.default does


@dataclass(frozen=True)
class Envelope:
    mail_from: str
    rcpt_tos: tuple[str, ...]


@dataclass(frozen=True)
class Recipient:
    """An address tautan serves: ``connect+<token>``, ``bounces+<token>``, ``request+<slug>``,
    ``postmaster`` (``kind``), with its token or slug (``value``)."""

    kind: str
    value: str | None = None


def parse_recipient(address: str, mail_domain: str) -> Recipient | None:
    """What an address at our domain is for, or None for an address we do not serve."""
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at and domain.lower() == "postmaster":  # bare "postmaster" is always served (RFC 5321 §4.5.1)
        return Recipient("postmaster")
    if not local or domain.lower() != mail_domain.lower():
        return None
    local = local.lower()
    if local in ("postmaster", "abuse"):
        return Recipient("postmaster")
    kind, _, value = local.partition("+")
    if kind in ("connect", "bounces") and TOKEN.fullmatch(value):
        return Recipient(kind, value)
    if kind == "request" and SLUG.fullmatch(value):
        return Recipient(kind, value)
    return None


def dedup_key(raw: bytes, rcpt_tos: Sequence[str] = ()) -> tuple[str, str | None]:
    """The key a message is stored under and its Message-ID. A retry of the same delivery has the
    same key; the same Message-ID sent to other recipients of ours (one email answering two
    invitations) or reused by a broken client for other content is a different message. So the
    key is the Message-ID, the recipients and a digest of the bytes after the headers (a relay
    may add Received: lines to a retry, never change the body)."""
    try:
        headers = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
        message_id = (headers.get("Message-ID") or "").strip() or None
    except Exception:  # noqa: BLE001 - headers too broken to read: the bytes identify the message
        message_id = None
    recipients = ",".join(sorted({r.strip().strip("<>").lower() for r in rcpt_tos}))
    if message_id:
        _, separator, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
        digest = hashlib.sha256(b"\0".join([message_id.encode("utf-8", "replace"), recipients.encode("utf-8"),
                                            body if separator else raw]))
        return "mid:" + digest.hexdigest(), message_id[:998]
    return "raw:" + hashlib.sha256(recipients.encode("utf-8") + b"\0" + raw).hexdigest(), None


@dataclass
class Limits:
    answers_per_hour: int = 5
    requests_per_day_per_sender: int = 3
    requests_per_day_per_domain: int = 10


class Inbound:
    def __init__(self, uow: Callable[[], UnitOfWork], config: MailConfig, *, limits: Limits | None = None) -> None:
        self.new_uow = uow
        self.config = config
        self.limits = limits or Limits()
        self._processing = threading.local()

    def uow(self) -> UnitOfWork:
        """The unit of work for a service call: while a message is processed, the one it is
        processed in (so reading, acting and recording the outcome commit together), else a new one."""
        current: UnitOfWork | None = getattr(self._processing, "uow", None)
        return current if current is not None else self.new_uow()

    # --- storing -----------------------------------------------------------------------------

    def receive(self, raw: bytes, envelope: Envelope, *, source: str) -> inbox.Stored:
        """Keep the message; raises ``Unavailable`` when it cannot be kept (the sender retries)."""
        key, message_id = dedup_key(raw, envelope.rcpt_tos)
        return inbox.store(self.uow(), dedup_key=key, message_id=message_id, source=source,
                           mail_from=envelope.mail_from, rcpt_tos=envelope.rcpt_tos, raw=raw)

    def knows(self, recipient: Recipient) -> bool:
        """Whether mail to this address can be acted on: a reply token must be an invitation's."""
        return self.knows_many([recipient])[0]

    def knows_many(self, recipients: Sequence[Recipient]) -> list[bool]:
        """``knows`` for several addresses, with one query; one answer each, in order."""
        tokens = [r.value for r in recipients if r.kind == "connect" and r.value]
        known = services.reply_tokens_known(self.uow(), reply_tokens=tokens) if tokens else set()
        return [r.value in known if r.kind == "connect" and r.value else True for r in recipients]

    def receive_many(self, messages: Sequence[tuple[bytes, Envelope, str]]) -> list[inbox.Stored]:
        """Keep several messages (raw, envelope, source) with one commit; one result each, in order."""
        incoming = []
        for raw, envelope, source in messages:
            key, message_id = dedup_key(raw, envelope.rcpt_tos)
            incoming.append(inbox.Incoming(dedup_key=key, message_id=message_id, source=source,
                                           mail_from=envelope.mail_from, rcpt_tos=envelope.rcpt_tos, raw=raw))
        return inbox.store_many(self.uow(), incoming)

    def process_pending(self, *, limit: int = 50, ids: Sequence[int] | None = None) -> int:
        """Process stored messages (new ones, and ones a crashed processor left); returns how many.
        They are taken, acted on and marked done several in one transaction (``inbox.process_batch``);
        if any of them fails, that transaction keeps nothing and they are done again one per
        transaction, where the failing one is told apart."""
        tried: list[int] = []
        while len(tried) < limit:
            current: list[inbox.InboxItem] = []
            unit = self.new_uow()
            try:
                items = inbox.process_batch(unit, functools.partial(self._handle, unit, current=current),
                                            limit=min(inbox.BATCH, limit - len(tried)), ids=ids, skip=tried,
                                            prepare=functools.partial(self._prepare, unit))
            except Exception:
                if not current:
                    raise  # not even taking the messages worked: the caller waits and tries again
                log.info("inbox: a batch of %d failed; processing them one by one", len(current))
                for item in current:
                    self._process_one(item.id)
                    tried.append(item.id)
                continue
            if not items:
                break
            tried.extend(item.id for item in items)
        return len(tried)

    def _process_one(self, inbox_id: int) -> None:
        """One stored message in a transaction of its own; a failure is recorded on its row."""
        current: list[inbox.InboxItem] = []
        unit = self.new_uow()
        try:
            inbox.process_batch(unit, functools.partial(self._handle, unit, current=current), limit=1,
                                ids=[inbox_id])
        except (Unavailable, ConcurrentChange) as error:
            if not current:
                raise
            inbox.retry_later(self.new_uow(), inbox_id=inbox_id, error=error.__class__.__name__,
                              count_attempt=True)
        except Exception as error:  # a bug must not lose the message: it stays, marked failed
            if not current:
                raise
            log.exception("inbox %s: processing failed", inbox_id)
            inbox.finish(self.new_uow(), inbox_id=inbox_id, outcome="error", failed=True,
                         error=f"{error.__class__.__name__}: {error}")

    def _prepare(self, unit: UnitOfWork, items: Sequence[inbox.InboxItem]) -> None:
        """Before a batch is handled: the invitations its replies answer, and whether any of them
        has a confirmation question, each loaded for the whole batch with one query."""
        tokens = [r.value for item in items for r in
                  (parse_recipient(a, self.config.mail_domain) for a in item.rcpt_tos)
                  if r is not None and r.kind in ("connect", "bounces") and r.value]
        services.load_confirmations(unit, invitation_ids=services.load_invitations(unit, reply_tokens=tokens))

    def _handle(self, unit: UnitOfWork, item: inbox.InboxItem, *,
                current: list[inbox.InboxItem]) -> tuple[str, bool]:
        current.append(item)
        self._processing.uow = unit
        try:
            return self.process_message(item.raw, envelope=Envelope(item.mail_from, item.rcpt_tos))
        finally:
            self._processing.uow = None

    # --- understanding and acting ------------------------------------------------------------

    def process_message(self, raw: bytes, *, envelope: Envelope) -> tuple[str, bool]:
        """Read one message and act on it. Returns (outcome, failed)."""
        message = BytesParser(policy=READING).parsebytes(raw)
        recipients = [r for r in (parse_recipient(a, self.config.mail_domain) for a in envelope.rcpt_tos) if r]
        if not recipients:
            return "not_ours", False
        sender = _sender(message) or _envelope_sender(envelope.mail_from)
        if sender and self._is_ours(sender):
            return "own_mail", False  # never talk to ourselves: that is how mail loops start
        # "<>" is a null sender (machine mail); "" means the transport did not say (IMAP)
        reading = read(message, envelope_sender=envelope.mail_from or None)

        token = next((r.value for r in recipients if r.kind in ("connect", "bounces")), None)
        if reading.kind == "bounce" or any(r.kind == "bounces" for r in recipients):
            return self._bounce(reading, token), False
        if reading.kind == "auto_reply":
            return "auto_reply", False
        if _malformed(message) and reading.intent == "unclear":
            return "malformed", True
        if not sender:
            return "no_sender", True
        recipient = recipients[0]
        if reading.intent in ("status", "help") and recipient.kind != "connect":
            return self._status(message, reading, sender), False
        if recipient.kind == "connect" and token:
            return self._reply(message, reading, sender, token), False
        if recipient.kind == "request" and recipient.value:
            return self._request(message, reading, sender, recipient.value), False
        return "postmaster", False

    def _is_ours(self, sender: str) -> bool:
        domain = sender.rpartition("@")[2]
        return sender == self.config.mail_from.lower() or domain == self.config.mail_domain.lower()

    def _bounce(self, reading: Reading, token: str | None) -> str:
        if token is None:
            return "bounce_unmatched"
        bounce = reading.bounce
        if bounce is not None and not bounce.permanent:
            return "bounce_delayed"  # the sending server keeps trying; nothing is decided yet
        reason = (bounce.reason if bounce else "") or "the message could not be delivered"
        try:
            changed = services.mark_undeliverable(self.uow(), reply_token=token, reason=reason,
                                                  actor="system", via="email")
            if bounce is not None and bounce.complaint:
                # A spam complaint: never mail this address for this customer again.
                invitation = services.get_invitation(self.uow(), reply_token=token)
                services.unsubscribe(self.uow(), invitation_id=invitation.id, actor="system", via="email")
                return "complaint_recorded"
        except NotFound:
            return "bounce_unknown_token"
        return "bounce_recorded" if changed else "bounce_ignored"

    def _reply(self, message: EmailMessage, reading: Reading, sender: str, token: str) -> str:
        try:
            invitation = services.get_invitation(self.uow(), reply_token=token)
        except NotFound:
            return "unknown_token"  # no answer: a guessed or stale address must not make us send mail
        lang = reading.language or invitation.lang
        context = _answer_context(message)
        actor = f"email:{sender}"
        if not _same_party(sender, invitation.email):
            self._answer("answer_other_sender", sender, lang, invitation, **context)
            return "other_sender"
        pending = services.pending_confirmation(self.uow(), reply_token=token)
        if pending is not None and reading.yes_no is not None:
            return self._confirmation_answer(pending, reading, sender, token, lang, invitation, context)
        plan = _plan(reading, invitation)
        services.record_reading(self.uow(), reply_token=token, outcome=plan.outcome, text=reading.text,
                                signals=reading.signals, lean=reading.lean, actor=actor, via="email")
        if plan.outcome == "help":
            self._answer("answer_help", sender, lang, invitation, **context)
            return "help"
        if plan.outcome == "status":
            lines = [[c.customer, c.type, c.status] for c in services.connections_of(self.uow(), email=sender)]
            self._answer("answer_status", sender, lang, invitation, connections=lines, **context)
            return "status"
        if plan.outcome == "unclear":
            self._answer("answer_unclear", sender, lang, invitation, **context)
            return "unclear"
        if plan.outcome == "confirm":
            if not self._answers_left(sender):
                return "confirmation_held_back"  # nothing is pending: a later reply is read afresh
            services.ask_confirmation(self.uow(), reply_token=token, intent=plan.intent, accept=plan.accept,
                                      decline=plan.decline, text=reading.text, actor=actor, via="email",
                                      lang=lang, **context)
            return "confirmation_asked"
        return self._act(plan, sender, token, lang, invitation, context)

    def _confirmation_answer(self, pending: services.PendingConfirmation, reading: Reading, sender: str, token: str,
                             lang: str, invitation: InvitationView, context: dict[str, object]) -> str:
        """A bare yes or no to the question "we read your reply as ...": yes acts as read, no changes nothing."""
        actor = f"email:{sender}"
        services.record_reading(self.uow(), reply_token=token, outcome=f"confirmation_{reading.yes_no}",
                                text=reading.text, signals=reading.signals, lean=reading.lean, actor=actor,
                                via="email")
        if reading.yes_no == "no":
            services.answer_confirmation(self.uow(), reply_token=token, confirmed=False, text=reading.text,
                                         actor=actor, via="email")
            self._answer("answer_confirm_refused", sender, lang, invitation, **context)
            return "confirmation_refused"
        plan = _Plan(pending.intent, pending.intent, pending.accept, pending.decline)
        outcome = self._act(plan, sender, token, lang, invitation, context)
        if outcome in ("accepted", "declined", "answered_types"):
            services.answer_confirmation(self.uow(), reply_token=token, confirmed=True, text=reading.text,
                                         actor=actor, via="email")
            return f"confirmed_{outcome}"
        return outcome

    def _act(self, plan: _Plan, sender: str, token: str, lang: str, invitation: InvitationView,
             context: dict[str, object]) -> str:
        actor = f"email:{sender}"
        open_types = {c.type for c in invitation.connections if c.status == "invited"}
        try:
            if plan.accept or plan.decline:
                if set(plan.accept) | set(plan.decline) >= open_types and not (plan.accept and plan.decline):
                    plan = _Plan(plan.outcome, "accept" if plan.accept else "decline")  # the whole invitation
                else:
                    services.answer_types(self.uow(), reply_token=token, accept=plan.accept, decline=plan.decline,
                                          actor=actor, via="email")
                    return "answered_types"
            act = services.accept if plan.intent == "accept" else services.decline
            act(self.uow(), reply_token=token, actor=actor, via="email")
        except InvitationClosed:
            self._answer("answer_closed", sender, lang, invitation, **context)
            return "closed"
        except InvitationExpired:
            self._answer("answer_expired", sender, lang, invitation, **context)
            return "expired"
        except InvalidInput:  # the types are no longer open (answered meanwhile on the page)
            self._answer("answer_unclear", sender, lang, invitation, **context)
            return "unclear"
        return "accepted" if plan.intent == "accept" else "declined"

    def _request(self, message: EmailMessage, reading: Reading, sender: str, slug: str) -> str:
        lang = reading.language or _guess_lang(sender)
        context = _answer_context(message)
        try:
            customer = services.get_company_by_slug(self.uow(), slug)
        except NotFound:
            self._answer("request_unknown", sender, lang, None, address=f"request+{slug}@{self.config.mail_domain}",
                         **context)
            return "request_unknown_customer"
        domain = sender.rpartition("@")[2]
        day = dt.timedelta(days=1)
        if (inbox.answers_sent(self.uow(), recipient=sender, kinds=["request_confirm"], since=day)
                >= self.limits.requests_per_day_per_sender
                or inbox.answers_sent(self.uow(), domain=domain, kinds=["request_confirm"], since=day)
                >= self.limits.requests_per_day_per_domain):
            return "request_rate_limited"
        issued = int(self.uow().clock().timestamp())
        link = request_url(self.config.public_base_url, self.config.secret_keys, customer.id, sender, issued)
        self._answer("request_confirm", sender, lang, None, customer=customer.display_name, link=link,
                     valid_days=REQUEST_LINK_TTL.days, **context)
        return "request_confirmation_sent"

    def _status(self, message: EmailMessage, reading: Reading, sender: str) -> str:
        """STATUS or HELP to any of our addresses: the sender's own connections and the sign-in
        link of the supplier page (the answer's footer); never anyone else's."""
        lines = [[c.customer, c.type, c.status] for c in services.connections_of(self.uow(), email=sender)]
        self._answer("answer_status", sender, reading.language or _guess_lang(sender), None, connections=lines,
                     **_answer_context(message))
        return "status"

    def _answers_left(self, recipient: str) -> bool:
        if inbox.answers_sent(self.uow(), recipient=recipient, kinds=ANSWER_KINDS,
                              since=dt.timedelta(hours=1)) >= self.limits.answers_per_hour:
            log.info("answer to a sender held back by the rate limit")
            return False
        return True

    def _answer(self, kind: str, recipient: str, lang: str, invitation: InvitationView | None,
                **payload: object) -> bool:
        """Queue an answer unless this address has had enough of them lately (loop and abuse guard)."""
        if not self._answers_left(recipient):
            return False
        services.answer(self.uow(), recipient=recipient, kind=kind, lang=lang,
                        invitation_id=invitation.id if invitation else None, **payload)
        return True


@dataclass(frozen=True)
class _Plan:
    """What to do with a reply: ``outcome`` (accept, decline, confirm, unclear, help, status), the
    intent acted on or asked about, and the document types for a partial answer (empty: all)."""

    outcome: str
    intent: str = ""
    accept: tuple[str, ...] = ()
    decline: tuple[str, ...] = ()


def _plan(reading: Reading, invitation: InvitationView) -> _Plan:
    """The reader's verdict applied to this invitation's types: a partial answer names types, and
    only the invitation's own open ones count ("invoices only" on an invitation for invoices
    alone is a plain yes; naming only types it does not cover is unclear)."""
    if reading.intent in ("help", "status", "unclear") or reading.lean is None:
        return _Plan(reading.intent if reading.intent in ("help", "status") else "unclear")
    lean = reading.lean
    covered = [t for t in invitation.types]
    mine = [t for t in covered if t in reading.types]
    theirs = [t for t in covered if t in reading.other_types]
    if reading.types and not mine:
        return _Plan("unclear")
    if not reading.types:
        mine = [t for t in covered if t not in theirs]
    elif reading.only:
        theirs = [t for t in covered if t not in mine]
    accept, decline = (mine, theirs) if lean == "accept" else (theirs, mine)
    whole = not theirs and set(mine) == set(covered)
    if reading.intent == "confirm":
        if reading.firm and whole:  # "kami terima untuk faktur dan pesanan" on exactly those types
            return _Plan(lean, lean)
        return _Plan("confirm", lean, tuple(accept), tuple(decline))
    return _Plan(lean, lean) if whole else _Plan("confirm", lean, tuple(accept), tuple(decline))


def _sender(message: EmailMessage) -> str | None:
    try:
        addresses = getaddresses([str(v) for v in message.get_all("From", [])])
    except Exception:  # noqa: BLE001 - a From header the email package cannot read: no sender
        return None
    for _name, address in addresses:
        address = address.strip().lower()
        if re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", address):
            return address
    return None


def _envelope_sender(mail_from: str) -> str | None:
    """The envelope sender of a message without a usable From: header ("<>" and "" are no one)."""
    address = mail_from.strip().strip("<>").lower()
    return address if re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", address) else None


def _same_party(sender: str, invited: str) -> bool:
    """The invited address itself, or another address at its domain (a shared mailbox's colleague),
    unless that domain is a shared mail provider, where a neighbour is a stranger. Compared as UTF-8
    bytes: ``compare_digest`` refuses non-ASCII ``str`` (international addresses)."""
    if hmac.compare_digest(sender.encode("utf-8"), invited.encode("utf-8")):
        return True
    domain = invited.rpartition("@")[2]
    return sender.rpartition("@")[2] == domain and not is_free_mail(domain)


def _malformed(message: EmailMessage) -> bool:
    parts = [message, *(message.walk() if message.is_multipart() else [])]
    return any(isinstance(d, STRUCTURAL_DEFECTS) for part in parts for d in getattr(part, "defects", []))


def _answer_context(message: EmailMessage) -> dict[str, object]:
    """Threading for an answer: the subject and the Message-ID it answers."""
    try:
        subject = str(message.get("Subject", "") or "")
        message_id = str(message.get("Message-ID", "") or "").strip()
    except Exception:  # noqa: BLE001 - unreadable headers: answer without threading, still answer
        subject, message_id = "", ""
    return {"original_subject": subject[:200], "in_reply_to": message_id[:998] if message_id.startswith("<") else ""}


def _guess_lang(address: str) -> str:
    return "id" if address.rpartition("@")[2].endswith(".id") else "en"
