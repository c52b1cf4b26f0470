"""Delivery failures, delays and spam complaints reported back to us."""

from __future__ import annotations

import contextvars
import email
import email.header
import email.policy
import logging
import re
from collections.abc import Iterable
from email.message import Message

from flufl.bounce import all_failures

from tautan.mail.understand.html import _MAX_HTML, _MAX_TEXT, html_to_text
from tautan.mail.understand.machine import _AUTO_SUBJECT, _AUTO_SUBJECT_ANYWHERE
from tautan.mail.understand.mime import (
    _POLICY,
    _content_type,
    _decode_words,
    _has_header,
    _header,
    _headers,
    _param,
    _part_text,
    _subparts,
    _walk,
    parse,
)
from tautan.mail.understand.verdict import Bounce

log = logging.getLogger(__name__)

# flufl.bounce logs every detector it runs (INFO) and a traceback before re-raising a detector's
# error (ERROR). Inside our calls we catch those errors ourselves, so its records are noise there.
_IN_FLUFL: contextvars.ContextVar[bool] = contextvars.ContextVar("_IN_FLUFL", default=False)
logging.getLogger("flufl.bounce").addFilter(lambda record: not _IN_FLUFL.get())


# The lookbehind lets a match start only where a run of address characters starts: without it a
# long run with no "@" (a base64 blob) costs quadratic time.
_ADDRESS = re.compile(r"(?<![\w.!#$%&'*+/=?^`{|}~-])[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|not delivered|delivery (?:status notification|failure|failed|has failed|"
    r"notification|problem|report)|failure notice|failed delivery|delivery fail|returned mail|"
    r"returned to sender|return(?:ed)? mail|mail delivery (?:failed|failure|system)|could not (?:be )?deliver|"
    r"couldn'?t be delivered|non[- ]?deliver|nondeliver|mail system error|delayed mail|"
    r"warning: could not send|message not delivered|delivery status|rejected|bounce|mail failure|"
    r"permanent error|unzustellbar|non remis|no se puede entregar|tidak terkirim|gagal terkirim|"
    r"tidak dapat dikirim|kegagalan pengiriman|status pengiriman|pesan tidak terkirim|"
    r"(?:message|mail) (?:blocked|refused)|error sending|unable to deliver|"
    r"nicht zustellbar|zustellung|notificación|avis de non|errors? in mail|mail not delivered|"
    r"メールエラー|エラー通知|配信エラー|不達|送信できません|"
    r"delivery error|failed mail|returned message|message delivery|mail could not|"
    r"sending failed|transmission failure|non-remise",
    re.I,
)
_BOUNCE_BODY = re.compile(
    r"could not be delivered|couldn'?t be delivered|was not delivered|undeliverable|delivery has failed|"
    r"delivery to the following recipient|permanent(?:ly)? (?:error|fatal|failure)|user unknown|"
    r"unknown user|no such user|mailbox (?:unavailable|full|not found|does not exist|is full)|"
    r"recipient address rejected|address not found|does not exist|rejected|failed recipient|"
    r"following address(?:es)? failed|message delivery failed|returned mail|unable to deliver|"
    r"delivery (?:status|failure|problem)|bounce|not be delivered|host unknown|relay(?:ing)? denied|"
    r"\b5\.\d{1,3}\.\d{1,3}\b|\b55\d\b|over quota|quota exceeded|mailbox full|tidak terkirim|"
    r"(?:envelope|message) expired|gagal dikirim|tidak dapat dikirim",
    re.I,
)
# What a bounce's most telling line says (for Bounce.reason)
_REASON_WORDS = re.compile(
    r"could not be delivered|couldn'?t be delivered|was not delivered|undeliverable|user unknown|unknown user|"
    r"no such user|mailbox|does not exist|not found|rejected|refused|denied|reason|quota|expired|"
    r"timed out|failed|failure|unable to|blocked|invalid",
    re.I,
)
_DELAY_WORDS = re.compile(
    r"\bdelayed\b|will (?:be )?retr|still (?:being )?tr(?:ying|ied)|not yet been delivered|"
    r"has not been delivered yet|temporar(?:y|ily)|warning: message|will continue|retry until|"
    r"delivery delay",
    re.I,
)
_STATUS_CODE = re.compile(r"(?<![\d.])([45])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)")
_SMTP_CODE = re.compile(r"(?<![\d.#-])([45][0-5]\d)(?:[ -](?=\S)|$)", re.M)
_STATUS_TEXT = {
    "1.0": "address problem",
    "1.1": "mailbox does not exist",
    "1.2": "domain does not exist",
    "1.3": "bad mailbox address syntax",
    "1.4": "ambiguous mailbox address",
    "1.6": "mailbox has moved",
    "1.10": "recipient address not found",
    "2.0": "mailbox problem",
    "2.1": "mailbox disabled",
    "2.2": "mailbox full",
    "2.3": "message too large for the mailbox",
    "2.4": "mailing list expansion problem",
    "3.0": "mail system problem",
    "3.1": "mail system full",
    "3.2": "system not accepting mail",
    "3.4": "message too large",
    "4.0": "network or routing problem",
    "4.1": "no answer from the receiving server",
    "4.2": "connection dropped",
    "4.3": "directory server failure",
    "4.4": "unable to route the message",
    "4.6": "routing loop",
    "4.7": "delivery time expired",
    "5.0": "protocol problem",
    "6.0": "content not accepted",
    "7.0": "rejected by policy",
    "7.1": "delivery not authorised, message refused",
    "7.26": "rejected: sender authentication (SPF/DKIM/DMARC) failed",
    "7.27": "sender domain accepts no mail",
}
_STATUS_CLASS_TEXT = {
    "1": "address problem", "2": "mailbox problem", "3": "mail system problem",
    "4": "network or routing problem", "5": "protocol problem", "6": "content not accepted",
    "7": "rejected by policy",
}
_OWN_LOCALPARTS = re.compile(
    r"^(?:mailer[-_]?daemon|maildaemon|postmaster|abuse|noreply|no-reply|donotreply|do-not-reply|"
    r"root|hostmaster|webmaster|support|help|fbl|fbl-abuse|dmarc|bounces?|double-bounce)(?:[+@]|$)",
    re.I,
)
_ORIGINAL_START = re.compile(
    r"^.*(?:original message|headers? (?:of the )?(?:original|returned|message)|message headers follow|"
    r"below this line is a copy|copy of the message|returned message|this is a copy of|"
    r"undelivered message|original message follows|unsent message below|"
    r"\bmessage (?:was|is) (?:included|attached)|^received:\s).*$",
    re.I | re.M,
)


def _addresses(text: str) -> list[str]:
    found = []
    for match in _ADDRESS.finditer(text):
        address = match.group(0).strip(".'`").lower()
        if address.startswith("mailto:"):
            address = address[len("mailto:"):]
        found.append(address)
    return found


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        if item and item not in seen:
            seen[item] = None
    return tuple(seen)


def _field_blocks(part: Message) -> list[dict[str, str]]:
    """The header blocks of a message/delivery-status or message/feedback-report part."""
    blocks: list[dict[str, str]] = []
    subparts = _subparts(part)
    if subparts:
        for sub in subparts:
            fields: dict[str, str] = {}
            try:
                items = list(sub.raw_items())
            except Exception:  # noqa: BLE001
                items = []
            for key, value in items:
                if isinstance(key, str):
                    fields.setdefault(key.lower(), _decode_words(str(value)))
            if fields:
                blocks.append(fields)
        # The email package may also leave text after the blocks in a payload it did not split.
        if blocks:
            return blocks
    text = _part_text(part)
    return _text_blocks(text)


def _text_blocks(text: str) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = None
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
            current, last = {}, None
            continue
        if line[:1] in " \t" and last:
            current[last] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,40}", key.strip()):
            last = key.strip().lower()
            current.setdefault(last, value.strip())
    if current:
        blocks.append(current)
    return blocks


def _address_field(value: str) -> str:
    """The address of a DSN address field ("rfc822; user@example.com")."""
    _, sep, address = value.partition(";")
    if not sep:
        address = value
    address = address.strip().strip("<>").strip()
    found = _addresses(address)
    return found[0] if found else ""


def _one_line(text: str, limit: int = 200) -> str:
    text = re.sub(r"\s+", " ", text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _status_reason(status: str | None) -> str:
    if not status:
        return ""
    _, _, rest = status.partition(".")
    if rest in _STATUS_TEXT:
        return _STATUS_TEXT[rest]
    return _STATUS_CLASS_TEXT.get(rest.split(".")[0], "")


def _reason(status: str | None, detail: str, fallback: str) -> str:
    label = _status_reason(status)
    detail = _one_line(re.sub(r"^\s*(?:smtp|x-[\w-]+|x-unix|x-postfix)\s*;\s*", "", detail or "", flags=re.I))
    if label and detail:
        return _one_line(f"{label}: {detail}")
    return _one_line(label or detail or fallback)


def _report_parts(msg: Message, ctype: str) -> list[Message]:
    return [p for p in _walk(msg, into_messages=False) if _content_type(p) == ctype]


def _original_message(msg: Message) -> Message | None:
    """The returned original: a message/rfc822 part or a text/rfc822-headers part."""
    for part in _walk(msg):
        ctype = _content_type(part)
        if ctype in ("message/rfc822", "message/global"):
            subs = _subparts(part)
            if subs:
                return subs[0]
        if ctype in ("text/rfc822-headers", "message/rfc822-headers", "message/global-headers"):
            try:
                return email.message_from_string(_part_text(part), policy=_POLICY)
            except Exception:  # noqa: BLE001
                return None
    return None


def _notification_text(msg: Message) -> str:
    """The human-readable text of a bounce (not the returned original)."""
    texts = []
    for part in _walk(msg):
        if part.is_multipart():
            continue
        ctype = _content_type(part)
        if ctype == "text/plain" or ctype.startswith("multipart/"):
            # A multipart whose boundary does not match its parts arrives as one string.
            texts.append(_part_text(part)[:_MAX_TEXT])
        elif ctype == "text/html" and not texts:
            texts.append(html_to_text(_part_text(part)[:_MAX_HTML]))
        if sum(len(t) for t in texts) > 20000:
            break
    return "\n".join(texts).replace("\r\n", "\n").replace("\r", "\n")


def _split_returned(text: str) -> tuple[str, str]:
    """(notice, returned original) of a plain-text bounce."""
    match = _ORIGINAL_START.search(text)
    if match and match.start() > 0:
        return text[: match.start()], text[match.start():]
    return text, ""


def _flufl_recipients(msg: Message) -> tuple[set[str], set[str]]:
    quiet = _IN_FLUFL.set(True)
    try:
        temporary, permanent = all_failures(msg)
    except Exception:  # noqa: BLE001 - a detector choking on odd input must not stop us
        log.debug("flufl.bounce failed on message", exc_info=True)
        return set(), set()
    finally:
        _IN_FLUFL.reset(quiet)

    def clean(addresses: Iterable[bytes]) -> set[str]:
        out = set()
        for raw in addresses:
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            found = _addresses(text)
            if found:
                out.add(found[0])
        return out

    return clean(temporary), clean(permanent)


_SENDER_LINE = re.compile(r"^(?:from|sender|return-path|message-id|in-reply-to|references)\s*:\s*(.*)$", re.I | re.M)


def _own_addresses(msg: Message) -> set[str]:
    """Addresses that are not failed recipients: the bounce's own, the returned original's
    sender (that is us), and message ids (which look like addresses)."""
    own: set[str] = set()
    original = _original_message(msg)
    if original is not None:
        for name in ("from", "sender", "return-path", "message-id", "in-reply-to", "references"):
            for value in _headers(original, name):
                own.update(_addresses(value))
    for name in ("message-id", "in-reply-to", "references"):
        for value in _headers(msg, name):
            own.update(_addresses(value))
    text = _notification_text(msg)
    for match in _SENDER_LINE.finditer(text):
        own.update(_addresses(match.group(1)))
    # Not Delivered-To / X-Original-To: some MTAs put the failed recipient there.
    for name in ("to", "from", "sender", "reply-to", "return-path", "errors-to"):
        for value in _headers(msg, name):
            own.update(_addresses(value))
    return own


_TEXT_RECIPIENT_PATTERNS = [
    # Postfix, qmail, Courier, DragonFly: "<user@host>: reason" or "<user@host>:" on its own line
    re.compile(r"^\s*<([^<>\s]+@[^<>\s]+)>\s*(?::|\.\.\.|\(|$)", re.M),
    # "user@host [User unknown]" / "user@host: 550 ..." at the start of a line
    re.compile(r"^\s*([^<>\s\"':]+@[\w.-]+\.\w+)\s*(?:\[|:\s|\(|$)", re.M),
    # Sendmail: "... while talking to x:\n>>> RCPT To:<user@host>" and "<user@host>... User unknown"
    re.compile(r"rcpt to:\s*<?([^<>\s]+@[^<>\s]+?)>?(?:\s|$)", re.I),
    re.compile(r"(?<![^<>\s\"'])([^<>\s\"']+@[^<>\s\"']+?)>?\.\.\.\s", re.I),
    # Exim: "The following address(es) failed:\n\n  user@host"
    re.compile(r"following (?:address|recipient)(?:\(?es\)?|s)? (?:failed|had (?:permanent )?(?:fatal )?"
               r"(?:delivery )?errors?|(?:could|can) ?not be delivered|was undeliverable)[-\s:]*?\n\s*\n?\s*"
               r"<?([^<>\s]+@[^<>\s:\[\]]+)>?", re.I),
    # Generic English / Indonesian phrases
    re.compile(r"(?<![\w.+=-])(?:delivery to|delivering (?:your )?(?:mail|message) to|deliver(?:ed)? (?:it )?to|"
               r"message to|mail to|could not be delivered to|wasn'?t delivered to|was not delivered to|"
               r"recipient|recipients|addressee|address|penerima|kepada|for|to|"
               r"rcpt|original-recipient|final-recipient|user|mailbox|account)(?:\s*:\s*|\s+|\s*:?\s*<)"
               r"(?:rfc822\s*;\s*)?[\"']?<?([^<>\s\"';,()]+@[^<>\s\"';,()]+)", re.I),
]


def _text_recipients(notice: str, own: set[str]) -> list[str]:
    found: list[str] = []
    for pattern in _TEXT_RECIPIENT_PATTERNS:
        for match in pattern.finditer(notice):
            for address in _addresses(match.group(1)):
                if address not in own and not _OWN_LOCALPARTS.match(address):
                    found.append(address)
    return found


_BOUNCE_SENDER = re.compile(
    r"(?:^|[\s<\"'(])(?:mailer[-_]?daemon|post[-_]?master|mmdf|mail[-_]?router)(?:@|[\s>\"')]|$)"
    r"|mailer daemon|mail delivery (?:system|subsystem)|mail administrator",
    re.I,
)


def _looks_like_bounce(msg: Message) -> bool:
    ctype = _content_type(msg)
    if ctype == "multipart/report" and _param(msg, "report-type").lower() not in (
        "disposition-notification", "feedback-report"
    ):
        return True
    for part in _walk(msg):
        if _content_type(part) in ("message/delivery-status", "message/global-delivery-status",
                                   "text/rfc822-headers"):
            return True
    if _has_header(msg, "x-failed-recipients") or _has_header(msg, "x-ms-exchange-message-is-ndr"):
        return True
    sender = " " + _header(msg, "from") + " " + _header(msg, "sender")
    if _BOUNCE_SENDER.search(sender):
        return True
    # Weaker signs need the notice's wording too: a person may well write "rejected" in a subject.
    subject = _header(msg, "subject")
    null_sender = any(v.strip() in ("<>", "") for v in _headers(msg, "return-path")) and _has_header(msg, "return-path")
    machine = null_sender or _header(msg, "auto-submitted").lower().startswith("auto-")
    if (machine and not _AUTO_SUBJECT_ANYWHERE.search(subject)) or (
        _BOUNCE_SUBJECT.search(subject) and not _AUTO_SUBJECT.match(subject)
    ):
        return bool(_BOUNCE_BODY.search(_notification_text(msg)[:5000]))
    return False


def _feedback_bounce(msg: Message, report: Message | None) -> Bounce:
    fields: dict[str, str] = {}
    if report is not None:
        for block in _field_blocks(report):
            for key, value in block.items():
                fields.setdefault(key, value)
    recipients = [_address_field(fields.get(name, "")) for name in
                  ("original-rcpt-to", "removal-recipient")]
    recipients = [r for r in recipients if r]
    if not recipients:
        original = _original_message(msg)
        if original is not None:
            recipients = [a for v in _headers(original, "to") for a in _addresses(v)]
    if not recipients:
        for name in ("x-hmxmroriginalrecipient", "x-original-rcpt-to"):
            recipients.extend(a for v in _headers(msg, name) for a in _addresses(v))
    feedback_type = (fields.get("feedback-type") or "abuse").strip().lower()
    return Bounce(
        recipients=_unique(recipients),
        status=None,
        permanent=True,
        reason=_one_line(f"the recipient reported the message as {feedback_type} (ARF feedback report)"),
        complaint=True,
    )


_SES_NOTIFICATION = re.compile(r'"notificationType"\s*:\s*"(Bounce|Complaint)"')


def _ses_bounce(text: str) -> Bounce | None:
    """Amazon SES bounce/complaint notifications delivered as JSON mail (via SNS)."""
    text = text.replace('\\"', '"')  # the SNS envelope carries the SES JSON as an escaped string
    kind = _SES_NOTIFICATION.search(text)
    if not kind:
        return None
    named = re.finditer(r'"emailAddress"\s*:\s*"([^"]+)"', text)
    recipients = _unique(address for match in named for address in _addresses(match.group(1)))
    if kind.group(1) == "Complaint":
        return Bounce(recipients, None, True, "the recipient reported the message as abuse (SES complaint)", True)
    status_match = re.search(r'"status"\s*:\s*"(\d\.\d{1,3}\.\d{1,3})"', text)
    status = status_match.group(1) if status_match else None
    bounce_type = re.search(r'"bounceType"\s*:\s*"(\w+)"', text)
    permanent = (bounce_type.group(1) == "Permanent") if bounce_type else bool(status and status.startswith("5"))
    diagnostic = re.search(r'"diagnosticCode"\s*:\s*"([^"]*)"', text)
    return Bounce(recipients, status, permanent, _reason(status, diagnostic.group(1) if diagnostic else "",
                                                          "message could not be delivered"))


def _dsn_blocks(msg: Message) -> tuple[list[dict[str, str]], bool]:
    """Per-recipient DSN field blocks, and whether they came from a real delivery-status part."""
    parts = _report_parts(msg, "message/delivery-status") + _report_parts(msg, "message/global-delivery-status")
    blocks = [block for part in parts for block in _field_blocks(part)]
    return blocks, bool(parts)


def _read_dsn(blocks: list[dict[str, str]]) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
    """(failed, delayed, statuses, diagnostics, actions) from DSN field blocks."""
    failed: list[str] = []
    delayed: list[str] = []
    statuses: list[str] = []
    diagnostics: list[str] = []
    actions: list[str] = []
    for block in blocks:
        action = block.get("action", "").strip().lower()
        # Original-Recipient is the address as we gave it; Final-Recipient may be an alias's.
        named = [_address_field(block.get(name, ""))
                 for name in ("original-recipient", "final-recipient", "x-actual-recipient")]
        named = [address for address in named if address]
        recipient = named[0] if named else ""
        status_match = _STATUS_CODE.search(block.get("status", ""))
        if not (action or recipient or status_match):
            continue  # the per-message block (Reporting-MTA, Arrival-Date, ...)
        if action:
            actions.append(action)
        if action.startswith(("delivered", "relayed", "expanded")):
            continue
        if status_match:
            statuses.append(".".join(status_match.groups()))
        if block.get("diagnostic-code"):
            diagnostics.append(block["diagnostic-code"])
        if recipient:
            (delayed if action.startswith("delayed") else failed).extend(named[:2])
    return failed, delayed, statuses, diagnostics, actions


def _is_complaint(msg: Message) -> bool:
    """Non-ARF spam complaints: Hotmail/Outlook.com JMRP ("complaint about message from ...")."""
    if re.search(r"complaint about message", _header(msg, "subject"), re.I):
        return True
    original = _original_message(msg)
    return original is not None and _has_header(original, "x-hmxmroriginalrecipient")


def find_bounce(msg: bytes | Message) -> Bounce | None:
    """The delivery failure this message reports, or None when it reports none.

    Reads RFC 3464 delivery-status fields (Final-Recipient, Action, Status, Diagnostic-Code)
    where present, asks ``flufl.bounce`` for the failed recipients of non-standard formats, and
    falls back on the text of the notice and the headers of the returned original. ARF feedback
    reports and other spam complaints come back as ``Bounce(complaint=True)``. A DSN that only
    reports successful delivery is not a bounce."""
    msg = parse(msg)
    ctype = _content_type(msg)
    report_type = _param(msg, "report-type").lower() if ctype == "multipart/report" else ""
    feedback_parts = _report_parts(msg, "message/feedback-report")
    if feedback_parts or report_type == "feedback-report":
        return _feedback_bounce(msg, feedback_parts[0] if feedback_parts else None)
    if report_type == "disposition-notification":
        return None  # a read receipt

    if _header(msg, "x-apple-unsubscribe").strip().lower() == "true":
        # Apple Mail's one-tap unsubscribe, sent to our List-Unsubscribe address
        return Bounce(_unique(a for v in _headers(msg, "from") for a in _addresses(v)), None, True,
                      "the recipient unsubscribed (Apple Mail)", True)
    blocks, from_part = _dsn_blocks(msg)
    if not from_part:
        if _is_complaint(msg):
            return _feedback_bounce(msg, None)
        notice_text = _notification_text(msg)
        if "notificationType" in notice_text:
            ses = _ses_bounce(notice_text)
            if ses is not None:
                return ses
        if not _looks_like_bounce(msg):
            return None
        # DSN fields written into a text part, or into a multipart whose boundary is broken
        unquoted = re.sub(r"^(?:[ \t]*>[ \t]?)+", "", notice_text, flags=re.M)
        blocks = [b for b in _text_blocks(unquoted) if "final-recipient" in b or "original-recipient" in b]
    failed, delayed, statuses, diagnostics, actions = _read_dsn(blocks)
    if actions and all(a.startswith(("delivered", "relayed", "expanded")) for a in actions):
        return None

    # A bounce forwarded by a person arrives quoted: read it without the "> " marks.
    notice_full = re.sub(r"^(?:[ \t]*>[ \t]?)+", "", _notification_text(msg), flags=re.M)
    notice, returned = _split_returned(notice_full)
    own = _own_addresses(msg)

    recipients: tuple[str, ...] = _unique(failed + delayed)
    flufl_kind = ""
    if not recipients:
        temporary, permanent = _flufl_recipients(msg)
        flufl_kind = "temporary" if temporary and not permanent else "permanent" if permanent else ""
        x_failed = [a for v in _headers(msg, "x-failed-recipients") for a in _addresses(v)]
        text_found = _text_recipients(notice, own)
        # The explicit header first, then flufl.bounce, then what the notice says.
        ordered = x_failed + sorted(permanent) + sorted(temporary) + text_found
        recipients = _unique(a for a in ordered if not _OWN_LOCALPARTS.match(a) and a not in own)
        if not recipients:
            # Someone who mailed themselves: the failed recipient is also the sender.
            recipients = _unique(a for a in ordered if not _OWN_LOCALPARTS.match(a))
    if not recipients:
        original = _original_message(msg)
        if original is not None:
            recipients = _unique(a for name in ("to", "cc") for v in _headers(original, name) for a in _addresses(v))
    if not recipients and returned:
        match = re.search(r"^to:\s*(.+)$", returned, re.I | re.M)
        if match:
            recipients = _unique(_addresses(match.group(1)))
    if not recipients:
        recipients = _unique(a for a in _addresses(notice) if a not in own and not _OWN_LOCALPARTS.match(a))[:3]

    status = statuses[0] if statuses else None
    if status is None or status.endswith(".0.0"):
        # "Status: 5.0.0" next to "Diagnostic-Code: smtp; 550 5.1.1 ...": the diagnostic knows more
        match = _STATUS_CODE.search((diagnostics[0] if diagnostics else "") + "\n" + notice[:6000])
        found = ".".join(match.groups()) if match else None
        if found and (status is None or found[0] == status[0]):
            status = found
    smtp_code = None
    if status is None:
        match = _SMTP_CODE.search(notice[:6000])
        smtp_code = match.group(1) if match else None

    # Permanent = a hard bounce (5.x.x): the address itself is refused. A 4.x.x failure, even
    # one the sending MTA gave up on, is soft: the same address may work later.
    if delayed and not failed:
        permanent_failure = False
    elif status is not None:
        permanent_failure = status.startswith("5")
    elif smtp_code is not None:
        permanent_failure = smtp_code.startswith("5")
    elif failed:
        permanent_failure = True
    elif flufl_kind:
        permanent_failure = flufl_kind == "permanent"
    else:
        permanent_failure = not _DELAY_WORDS.search(_header(msg, "subject") + "\n" + notice[:3000])

    detail = diagnostics[0] if diagnostics else _notice_line(notice, smtp_code or status)
    fallback = "message could not be delivered" if permanent_failure else "delivery delayed"
    return Bounce(
        recipients=recipients,
        status=status,
        permanent=permanent_failure,
        reason=_reason(status, detail, fallback),
    )


def _notice_line(notice: str, code: str | None) -> str:
    """The most telling line of a bounce notice: one with the status code, else one that says
    what went wrong."""
    lines = [line.strip() for line in notice.split("\n") if line.strip()]
    lines = [line for line in lines if re.search(r"[^\W\d_]{3}", line)
             and not re.match(r"(?:subject|from|to|date|message-id|received|content-[\w-]+)\s*:", line, re.I)
             and not re.match(r"this is an automatically generated|this is the mail system at", line, re.I)]
    if code:
        for line in lines:
            if code in line and len(line) > len(code) + 3:
                return line
    for line in lines:
        if _REASON_WORDS.search(line) and len(line) < 300:
            return line.strip("#*=~-_ ")
    return ""
