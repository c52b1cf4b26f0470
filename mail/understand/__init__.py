"""Understand one inbound email: a bounce, an automatic reply, or a person's answer.

Pure functions: no database, no network, no I/O besides parsing. Nothing here raises on bad
input; a message too broken to read comes back as a human reply with no text (intent
"unclear"), or as machine mail when its raw bytes say so.

API
---
``read(message, *, envelope_sender=None) -> Reading``
    The whole verdict for one message (``bytes``, ``str`` or an ``email.message.Message``,
    ideally parsed with ``email.policy.default``). ``envelope_sender`` is the SMTP ``MAIL FROM``
    when the caller knows it: ``""`` (the null reverse-path) always means machine mail.

    ``Reading.kind`` is ``"bounce"``, ``"auto_reply"`` or ``"human"``, tried in that order:

    * ``"bounce"``: a delivery failure or delay (RFC 3464 DSNs and the home-made formats of
      Postfix, Exim, Exchange/Office 365, Gmail, qmail, Sendmail, ...), with a ``Bounce``
      saying which recipients failed, the enhanced status code, whether it is permanent and a
      one-line reason. ARF spam complaints (``report-type=feedback-report``) are bounces too,
      with ``complaint=True`` and ``permanent=True``: like a hard bounce they mean "stop mailing
      this address and tell the inviting admin", and they are never an answer.
    * ``"auto_reply"``: out-of-office and vacation notices, other automatic mail (RFC 3834
      ``Auto-Submitted``, ``X-Autoreply``, ``Precedence: bulk``, mailing-list headers, a null
      return path, read receipts, successful-delivery DSNs), and out-of-office notices told from
      their text alone ("Saya sedang cuti hingga ...", "I am out of the office until ...").
    * ``"human"``: everything else. ``text`` is the new text of the reply (quotes, quoted
      headers, signatures and "Sent from my iPhone" removed) and ``intent`` what it asks for
      (``understand`` in ``intent.py``; the Subject line is read when the body has no new text).
      ``confirm`` means "leans to ``lean`` but is not sure: ask first"; ``types``,
      ``other_types``, ``only``, ``signals`` and ``yes_no`` explain the reading.

    For machine mail ``text`` is ``""``, ``intent`` ``"unclear"`` and ``language`` ``None``.

The pieces, each usable on its own (one module each: ``mime`` parsing and safe header access,
``html`` body text, ``quotes`` trimming, ``intent`` reading the new text, ``machine`` automatic
mail, ``bounces`` delivery failures; ``verdict`` holds the result types):

``find_bounce(msg) -> Bounce | None``
``is_auto_reply(msg, *, envelope_sender=None) -> bool``
``body_text(msg) -> str``            text/plain, else the HTML converted to text (HTML quote
                                     blocks already dropped)
``html_to_text(html) -> str``
``trim_reply(text, *, signature=True) -> str``
                                     the new text of a reply; ``signature=False`` keeps
                                     signatures and only removes quoted mail
``understand(text, *, subject="") -> Understanding``
                                     the reading of the new text, with its signals
``intent_of(text) -> (intent, language)``
                                     ``intent`` is ``"accept"``, ``"decline"``, ``"confirm"``,
                                     ``"help"``, ``"status"`` or ``"unclear"``; ``language`` is
                                     ``"en"`` or ``"id"`` when the words that decided it (or, for
                                     unclear text, most of its words) are of that language.
``is_automatic_text(text) -> bool``  an out-of-office or "we received your mail" notice

``Bounce``: ``recipients`` are the failed addresses in lower case (Original-Recipient before
Final-Recipient; ``()`` when the notice names none: match it by its envelope then);
``permanent`` is True for hard failures (5.x.x, and complaints), False for delays and 4.x.x
failures, even ones the sending server gave up on (the address may work later);
``reason`` is one line of English diagnostic text for the admin (the status code is the stable
part to translate from).

Known limits: intent is read from the lines above the first closing line (at most 12); a
lone emoji or slang word is only ever a "confirm"; a contradiction makes it "unclear"; quoted text the
sender's client did not mark (no "> ", no attribution line, no header block) is taken as new
text; inline answers between quoted lines are kept, the quoted lines dropped.
"""

from __future__ import annotations

import logging
import re
from email.message import Message

from tautan.mail.understand.bounces import find_bounce
from tautan.mail.understand.html import body_text, html_to_text
from tautan.mail.understand.intent import Understanding, intent_of, understand
from tautan.mail.understand.machine import is_auto_reply, is_automatic_text
from tautan.mail.understand.mime import _header, parse
from tautan.mail.understand.quotes import trim_reply
from tautan.mail.understand.verdict import Bounce, Intent, Kind, Language, Reading  # noqa: F401 - re-exported

log = logging.getLogger(__name__)

__all__ = [
    "Bounce",
    "Reading",
    "Understanding",
    "body_text",
    "find_bounce",
    "html_to_text",
    "intent_of",
    "is_auto_reply",
    "is_automatic_text",
    "parse",
    "read",
    "trim_reply",
    "understand",
]


_RAW_MACHINE = re.compile(
    rb"^(?:return-path:\s*<>|auto-submitted:\s*auto-|x-failed-recipients:|precedence:\s*(?:bulk|junk|list)|"
    rb"from:.*(?:mailer-daemon|postmaster)@|content-type:\s*multipart/report)",
    re.I | re.M,
)


def read(message: bytes | str | Message, *, envelope_sender: str | None = None) -> Reading:
    """Everything tautan needs to know about one inbound message (see the module docstring)."""
    try:
        msg = parse(message)
        bounce = find_bounce(msg)
        if bounce is not None:
            return Reading("bounce", bounce, "", "unclear", None)
        if is_auto_reply(msg, envelope_sender=envelope_sender):
            return Reading("auto_reply", None, "", "unclear", None)
        text = trim_reply(body_text(msg))
        if is_automatic_text(text):  # an out-of-office notice sent without any header saying so
            return Reading("auto_reply", None, "", "unclear", None, signals=("out_of_office_text",))
        u = understand(text, subject=_header(msg, "subject"))
        return Reading("human", None, text, u.intent, u.language, lean=u.lean, types=u.types,
                       other_types=u.other_types, only=u.only, signals=u.signals, yes_no=u.yes_no, firm=u.firm)
    except Exception:  # noqa: BLE001 - one unreadable message must not stop the inbox
        log.warning("inbound message could not be understood; treating it as unclear", exc_info=True)
        return _fallback(message, envelope_sender)


def _fallback(message: bytes | str | Message, envelope_sender: str | None) -> Reading:
    raw = b""
    try:
        if isinstance(message, Message):
            raw = "\n".join(f"{k}: {v}" for k, v in message.raw_items()).encode("utf-8", "replace")
        elif isinstance(message, str):
            raw = message[:20000].encode("utf-8", "replace")
        else:
            raw = bytes(message[:20000])
    except Exception:  # noqa: BLE001
        raw = b""
    header_end = re.search(rb"\r?\n\r?\n", raw)
    headers = raw[: header_end.start()] if header_end else raw
    if (envelope_sender is not None and envelope_sender.strip() in ("", "<>")) or _RAW_MACHINE.search(headers):
        return Reading("auto_reply", None, "", "unclear", None)
    return Reading("human", None, "", "unclear", None)
