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
      return path, read receipts, successful-delivery DSNs).
    * ``"human"``: everything else. ``text`` is the new text of the reply (quotes, quoted
      headers, signatures and "Sent from my iPhone" removed) and ``intent`` what it asks for.

    For machine mail ``text`` is ``""``, ``intent`` ``"unclear"`` and ``language`` ``None``.

The pieces, each usable on its own:

``find_bounce(msg) -> Bounce | None``
``is_auto_reply(msg, *, envelope_sender=None) -> bool``
``body_text(msg) -> str``            text/plain, else the HTML converted to text (HTML quote
                                     blocks already dropped)
``html_to_text(html) -> str``
``trim_reply(text, *, signature=True) -> str``
                                     the new text of a reply; ``signature=False`` keeps
                                     signatures and only removes quoted mail
``intent_of(text) -> (intent, language)``
                                     ``intent`` is ``"accept"``, ``"decline"``, ``"help"``,
                                     ``"status"`` or ``"unclear"``; ``language`` is ``"en"`` or
                                     ``"id"`` when the words that decided it (or, for unclear
                                     text, most of its words) are of that language, else None.

``Bounce``: ``recipients`` are the failed addresses in lower case (Original-Recipient before
Final-Recipient; ``()`` when the notice names none: match it by its envelope then);
``permanent`` is True for hard failures (5.x.x, and complaints), False for delays and 4.x.x
failures, even ones the sending server gave up on (the address may work later);
``reason`` is one line of English diagnostic text for the admin (the status code is the stable
part to translate from).

Known limits: intent is read from the first lines only and needs words (a lone emoji is
"unclear"); a question or a contradiction near the answer makes it "unclear"; quoted text the
sender's client did not mark (no "> ", no attribution line, no header block) is taken as new
text; inline answers between quoted lines are kept, the quoted lines dropped.
"""

from __future__ import annotations

import contextvars
import email
import email.header
import email.policy
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import Message
from html.parser import HTMLParser
from typing import Literal

from flufl.bounce import all_failures

log = logging.getLogger(__name__)

# flufl.bounce logs every detector it runs (INFO) and a traceback before re-raising a detector's
# error (ERROR). Inside our calls we catch those errors ourselves, so its records are noise there.
_IN_FLUFL: contextvars.ContextVar[bool] = contextvars.ContextVar("_IN_FLUFL", default=False)
logging.getLogger("flufl.bounce").addFilter(lambda record: not _IN_FLUFL.get())

Kind = Literal["bounce", "auto_reply", "human"]
Intent = Literal["accept", "decline", "help", "status", "unclear"]
Language = Literal["en", "id"]

__all__ = [
    "Bounce",
    "Reading",
    "body_text",
    "find_bounce",
    "html_to_text",
    "intent_of",
    "is_auto_reply",
    "parse",
    "read",
    "trim_reply",
]


@dataclass(frozen=True)
class Bounce:
    """A delivery failure (or delay, or spam complaint) reported back to us."""

    recipients: tuple[str, ...]  # the addresses that failed, lower case; () when none was named
    status: str | None  # RFC 3463 enhanced status code, e.g. "5.1.1"
    permanent: bool  # False for delays and temporary (4.x.x) failures
    reason: str  # short, one line, for a human
    complaint: bool = False  # an ARF feedback report: the recipient called our mail spam


@dataclass(frozen=True)
class Reading:
    """What one inbound message is, and for a person's reply what it says."""

    kind: Kind
    bounce: Bounce | None
    text: str
    intent: Intent
    language: Language | None


# ---------------------------------------------------------------------------------------------
# Parsing and safe access
#
# The email package raises all sorts of exceptions on malformed input (IndexError, ValueError,
# LookupError, AttributeError, ...), so the helpers below catch Exception (noqa: BLE001) and fall
# back to "absent": inbound mail is untrusted, and one broken header must not hide the rest.

_POLICY = email.policy.default


def parse(message: bytes | bytearray | str | Message) -> Message:
    """The message as an ``email`` object (parsed with ``email.policy.default``)."""
    if isinstance(message, Message):
        return message
    if isinstance(message, str):
        message = message.encode("utf-8", "surrogateescape")
    return email.message_from_bytes(bytes(message), policy=_POLICY)


def _decode_words(value: str) -> str:
    """A raw header value unfolded, its RFC 2047 words decoded; never raises."""
    value = re.sub(r"\r?\n[ \t]*", " ", value)
    value = _fix_surrogates(value)
    if "=?" in value:
        try:
            value = str(email.header.make_header(email.header.decode_header(value)))
        except Exception:  # noqa: BLE001 - any malformed encoded word: keep the raw text
            pass
    return _fix_surrogates(value).strip()


def _fix_surrogates(value: str) -> str:
    # Undecodable header bytes arrive as surrogate escapes; read them as UTF-8 where they are.
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value


def _headers(msg: Message, name: str) -> list[str]:
    """Every value of header ``name``, decoded. Reads raw header pairs: the header registry of
    ``policy.default`` can raise on malformed addresses."""
    name = name.lower()
    values: list[str] = []
    try:
        items = list(msg.raw_items())
    except Exception:  # noqa: BLE001
        return values
    for key, value in items:
        if isinstance(key, str) and key.lower() == name:
            values.append(_decode_words(str(value)))
    return values


def _header(msg: Message, name: str) -> str:
    values = _headers(msg, name)
    return values[0] if values else ""


def _has_header(msg: Message, name: str) -> bool:
    name = name.lower()
    try:
        return any(isinstance(k, str) and k.lower() == name for k, _ in msg.raw_items())
    except Exception:  # noqa: BLE001
        return False


def _content_type(part: Message) -> str:
    # Asked for dozens of times per message, and parsing the header is the costly part: keep it.
    cached = getattr(part, "_tautan_content_type", None)
    if cached is not None:
        return cached
    try:
        ctype = part.get_content_type()
    except Exception:  # noqa: BLE001
        ctype = "text/plain"
    # "text/plain   charset=x" (a missing ";") comes back whole from the email package
    ctype = re.split(r"[\s;]", ctype.strip(), maxsplit=1)[0].lower()
    ctype = ctype if "/" in ctype else "text/plain"
    try:
        part._tautan_content_type = ctype  # type: ignore[attr-defined]
    except AttributeError:
        pass
    return ctype


def _param(part: Message, name: str) -> str:
    try:
        value = part.get_param(name)
    except Exception:  # noqa: BLE001
        return ""
    if isinstance(value, tuple):  # RFC 2231 (charset, language, value)
        value = value[2]
    return str(value or "")


def _is_attachment(part: Message) -> bool:
    disposition = _header(part, "content-disposition").split(";")[0].strip().lower()
    return disposition == "attachment"


def _subparts(part: Message) -> list[Message]:
    try:
        payload = part.get_payload()
    except Exception:  # noqa: BLE001
        return []
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    return []


def _walk(msg: Message, *, into_messages: bool = False, depth: int = 0) -> Iterator[Message]:
    """Every part in order; by default not into attached messages (message/rfc822), whose text
    is the earlier mail, not this one."""
    yield msg
    if depth > 30:
        return
    ctype = _content_type(msg)
    if ctype.startswith("message/") and not into_messages:
        return
    if ctype == "message/delivery-status" or ctype == "message/global-delivery-status":
        return
    for sub in _subparts(msg):
        yield from _walk(sub, into_messages=into_messages, depth=depth + 1)


_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I)


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """Text from bytes in the declared charset, falling back sensibly; never raises."""
    tried: list[str] = []
    charset = (charset or "").strip().strip('"').lower()
    # ISO-8859-1 and ASCII labels are routinely put on Windows-1252 text (as browsers assume).
    if charset in ("iso-8859-1", "latin1", "latin-1", "iso8859-1", "l1", "us-ascii", "ascii"):
        candidates = ["ascii", "utf-8", "cp1252"] if "ascii" in charset else ["cp1252", "latin-1"]
    else:
        candidates = [charset, "utf-8", "cp1252"] if charset else ["utf-8", "cp1252"]
    for name in candidates:
        if not name or name in tried:
            continue
        tried.append(name)
        try:
            return data.decode(name)
        except (LookupError, UnicodeError, ValueError, TypeError):
            continue
    try:
        return data.decode(charset or "utf-8", "replace")
    except (LookupError, UnicodeError, ValueError, TypeError):
        return data.decode("latin-1")


def _part_text(part: Message) -> str:
    """The decoded text of a non-multipart part (transfer encoding and charset undone)."""
    data: bytes | None
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        data = None
    if not isinstance(data, (bytes, bytearray)):
        try:
            raw = part.get_payload()
        except Exception:  # noqa: BLE001
            return ""
        if not isinstance(raw, str):
            return ""
        data = raw.encode("utf-8", "surrogateescape")
    charset = _param(part, "charset")
    if not charset and _content_type(part) == "text/html":
        found = _META_CHARSET.search(data[:4096])
        charset = found.group(1).decode("ascii", "ignore") if found else ""
    return _decode_bytes(bytes(data), charset)


# ---------------------------------------------------------------------------------------------
# Body text and HTML

# A reply's new text is at its top; reading megabytes of it only costs time.
_MAX_TEXT = 200_000
_MAX_HTML = 500_000


def body_text(msg: bytes | Message) -> str:
    """The message's own text: its first text/plain part, else its first HTML part as text.
    Attachments and attached messages are not read."""
    msg = parse(msg)
    plain: str | None = None
    html: str | None = None
    for part in _walk(msg):
        if part.is_multipart() or _is_attachment(part):
            continue
        ctype = _content_type(part)
        if ctype == "text/plain" and plain is None:
            plain = _part_text(part)[:_MAX_TEXT]
        elif ctype == "text/html" and html is None:
            html = _part_text(part)[:_MAX_HTML]
        if plain is not None and plain.strip():
            break
    if plain is not None and plain.strip():
        return _clean_text(plain)
    if html is not None:
        return html_to_text(html)
    return ""


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u034f"), None)


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE)
    text = text.replace("\u00a0", " ").replace("\u202f", " ")
    return "\n".join(line.rstrip() for line in text.split("\n"))


_BLOCK_TAGS = frozenset(
    "address article aside blockquote center dd div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header li main nav ol p pre section table tbody thead tfoot tr ul".split()
)
_VOID_TAGS = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_SKIP_TAGS = frozenset(("style", "script", "head", "title", "xml", "template", "noscript"))
# Quoted earlier mail in HTML: drop the element itself (by class or id; the reply may follow it)...
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote", "zmail_extra",
                  "x_gmail_quote", "gmail_extra", "outlookmessageheader", "ydp-quoted")
_QUOTE_IDS = ("reply-intro",)  # Roundcube's "On ... wrote:" paragraph
# ... or everything from the element to the end of the document (Outlook, Zimbra, Hotmail).
_CUT_IDS = ("divrplyfwdmsg", "appendonsend", "stopspelling", "zwchr", "olk_src_body_section",
            "mail-editor-reference-message-container", "x_divrplyfwdmsg", "x_appendonsend",
            "isforwardcontent", "_originalcontent")


class _HTMLText(HTMLParser):
    """Collects the text of an HTML body, leaving out quoted mail, styles and scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.stack: list[str] = []
        self.drop_depth: int | None = None  # stack depth of the element being dropped
        self.skip_depth: int | None = None
        self.pre = 0
        self.done = False

    def _newline(self, count: int = 1) -> None:
        text = "".join(self.chunks[-3:])
        have = len(text) - len(text.rstrip("\n"))
        if not self.chunks:
            return
        if have < count:
            self.chunks.append("\n" * (count - have))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        tag = tag.lower()
        attributes = {k.lower(): (v or "") for k, v in attrs}
        ident = attributes.get("id", "").lower()
        classes = attributes.get("class", "").lower().split()
        if self.drop_depth is None and self.skip_depth is None:
            if ident in _CUT_IDS or any(c in _CUT_IDS for c in classes):
                self.done = True
                return
            if tag == "blockquote" or ident in _QUOTE_IDS or any(c in _QUOTE_CLASSES for c in classes):
                if tag not in _VOID_TAGS:
                    self.drop_depth = len(self.stack)
                    self.stack.append(tag)
                return
        if tag in _VOID_TAGS:
            if self.drop_depth is None and self.skip_depth is None:
                if tag == "br":
                    self.chunks.append("\n")
                elif tag == "hr":
                    # a separator line, which trim_reply reads as the start of quoted mail
                    self._newline()
                    self.chunks.append("________________________________\n")
            return
        self.stack.append(tag)
        if tag in _SKIP_TAGS and self.skip_depth is None:
            self.skip_depth = len(self.stack) - 1
        if self.drop_depth is not None or self.skip_depth is not None:
            return
        if tag == "pre":
            self.pre += 1
        if tag in _BLOCK_TAGS:
            self._newline()
        elif tag in ("td", "th"):
            self.chunks.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag.lower() in _VOID_TAGS:
            self.handle_starttag(tag, attrs)
        else:
            self.handle_starttag(tag, attrs)
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.done:
            return
        tag = tag.lower()
        if tag in _VOID_TAGS or tag not in self.stack:
            return
        # Close up to the matching element (browsers forgive missing end tags too).
        while self.stack:
            open_tag = self.stack.pop()
            depth = len(self.stack)
            if self.drop_depth is not None and depth <= self.drop_depth:
                self.drop_depth = None
            if self.skip_depth is not None and depth <= self.skip_depth:
                self.skip_depth = None
            if open_tag == "pre" and self.pre:
                self.pre -= 1
            if self.drop_depth is None and self.skip_depth is None and open_tag in _BLOCK_TAGS:
                self._newline()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.done or self.drop_depth is not None or self.skip_depth is not None:
            return
        if not self.pre:
            data = re.sub(r"[ \t\r\n\f]+", " ", data)
            if self.chunks and self.chunks[-1].endswith(("\n", " ")) and data.startswith(" "):
                data = data[1:]
            elif not self.chunks and data.startswith(" "):
                data = data.lstrip(" ")
        if data:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    """Readable text from an HTML mail body. Quoted earlier mail (``<blockquote>``, Gmail's
    ``gmail_quote``, Outlook's ``divRplyFwdMsg``, Thunderbird's ``moz-cite-prefix``, Yahoo's
    ``yahoo_quoted``, Apple's ``<blockquote type=cite>``) is left out."""
    parser = _HTMLText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - html.parser is lenient; keep what was read
        log.debug("HTML body could not be parsed completely", exc_info=True)
    text = _clean_text("".join(parser.chunks))
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# ---------------------------------------------------------------------------------------------
# Trimming quotes and signatures

_QUOTE_LINE = re.compile(r"^[ \t]*>")
_WROTE = (
    r"wrote|writes|menulis|a [ée]crit|schrieb|escribi[óo]|escreveu|ha scritto|scrisse|"
    r"(?:het volgende )?geschreven|schreef|skrev|napisa[łl](?:\(a\))?|napisala|написал(?:\(а\)|а)?|"
    r"пише|写道|寫道|kirjoitti|yazd[ıi]|έγραψε|ecrit|wrote on"
)
_WROTE_RE = re.compile(rf"(?:^|[\s,\"'>)])(?:{_WROTE})\b", re.I)
_WROTE_END = re.compile(
    rf"(?:(?:{_WROTE})\s*(?:[:：]|-{{2,}})?|(?:{_WROTE})\b.{{0,60}}[:：]|schrieb am .{{0,60}}uhr\s*:?)\s*$",
    re.I,
)
# "26.06.2014, 14:41, "Alexander L" <abc@example.com>:" (Yandex, Mail.ru, old Gmail)
_DATED_ADDRESS_END = re.compile(r"\d{1,2}[:.]\d{2}\b.{0,120}<[^<>\s]+@[^<>\s]+>\s*[:：]\s*$")
_ATTRIBUTION_START = re.compile(
    r"^(?:[-*]+\s*)?(?:on|pada|pada tanggal|le|am|el|em|il|op|den|dnia|w dniu|at|dne|"
    r"mon|tue|wed|thu|fri|sat|sun|sen|sel|rab|kam|jum|sab|min|"
    r"\d+|\"|'|<|[^\s@]+@)\b",
    re.I,
)
_HAS_WHEN_OR_WHO = re.compile(r"@|\d{1,2}[:.]\d{2}|(?:19|20)\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")
_DATE_ATTRIBUTION = re.compile(
    r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b.{0,80}(?:\d{1,2}:\d{2}|<[^>]*@[^>]*>?)", re.I
)
_ORIGINAL_MARKER = re.compile(
    r"^[*_\s]*(?:[-=_]{2,}\s*)?(?:original message|original e-?mail|pesan asli|pesan asal|pesan awal|"
    r"forwarded message|pesan terusan|pesan yang diteruskan|ursprüngliche nachricht|original-nachricht|"
    r"weitergeleitete nachricht|mensaje original|mensaje reenviado|message d'origine|message original|"
    r"message transféré|messaggio originale|messaggio inoltrato|oorspronkelijk bericht|"
    r"doorgestuurd bericht|originalmeddelande|vidarebefordrat meddelande|mensagem original|"
    r"mensagem encaminhada|oprindelig meddelelse|alkuperäinen viesti|исходное сообщение|"
    r"пересылаемое сообщение|reply message|balasan pesan)\s*(?:[-=_]{2,})?[*_\s]*:?\s*$",
    re.I,
)
_FORWARD_MARKER = re.compile(
    r"^\s*(?:begin forwarded message|awal pesan yang diteruskan|pesan yang diteruskan dimulai|"
    r"anfang der weitergeleiteten nachricht|début du message réexpédié|inicio del mensaje reenviado)\s*:",
    re.I,
)
_HEADER_KEYS = (
    r"from|sent|date|to|cc|bcc|subject|reply-to|dari|dikirim|terkirim|tanggal|kepada|ke|kpd|perihal|"
    r"subjek|judul|tembusan|von|gesendet|an|betreff|datum|de|enviado|para|asunto|fecha|envoy[ée]|"
    r"[àa]|objet|da|inviato|oggetto|data|risposta|fr[åa]n|skickat|till|[äa]mne|kopia|van|verzonden|"
    r"aan|onderwerp|od|wys[łl]ane|do|temat|от|отправлено|кому|тема|дата|发件人|发送时间|收件人|主题"
)
_HEADER_LINE = re.compile(rf"^[ \t]*[*_]{{0,2}}\s*({_HEADER_KEYS})\s*[*_]{{0,2}}\s*[:：]", re.I)
_FROM_KEYS = frozenset(("from", "dari", "von", "de", "da", "från", "fran", "van", "od", "от", "发件人",
                        "date", "sent", "subject"))
_DELIMITER = re.compile(r"^[ \t]*(?:[-_=*#~+—–•·ᐧ]{2,}|[—ᐧ])[ \t]*$")
_SIGNATURE_DELIMITER = re.compile(r"^(?:--|—|-- ?)[ \t]*$")
_MOBILE_SIGNATURE = re.compile(
    r"^[ \t]*[(<\[]*\s*(?:"
    r"sent (?:from|via|with|using|by|on) .{1,70}|"
    r"(?:get|download) (?:\[?outlook|\[?microsoft outlook|the outlook).{0,70}|"
    r"dapatkan (?:\[?outlook|aplikasi).{0,70}|"
    r"(?:dikirim|terkirim|dikirimkan) (?:dari|melalui|dengan|via|menggunakan|lewat) "
    r"(?:iphone|ipad|ponsel|perangkat|telepon|hp|yahoo|outlook|samsung|android|gmail|email|e-mail|surel|"
    r"aplikasi|mail|blackberry|smartphone|galaxy|huawei|xiaomi|oppo|vivo|redmi|realme|windows|my|"
    r"seluler|handphone|tablet)\b.{0,60}|"
    r"envoy[ée] (?:de|depuis|à partir de) .{1,60}|von meinem .{1,60} gesendet\.?|"
    r"enviado (?:desde|de|do) (?:mi|meu) .{1,60}|inviato da(?:l mio)? .{1,60}|"
    r"verzonden (?:met|vanaf|van(?:af)? mijn) .{1,60}|sendt fra min .{1,60}|skickat från min .{1,60}|"
    r"lähetetty .{1,60}|從我的 .{1,30}傳送|发自我的.{1,30}|"
    r"diese nachricht wurde von meinem .{1,80} gesendet\.?|"
    r"<<sent by .{1,30}>>|from my (?:iphone|ipad|android|mobile|samsung).{0,30}"
    r")[)>\]]*\s*$",
    re.I,
)


def _is_header_block(lines: list[str], i: int) -> bool:
    """An Outlook-style header block ("From: … / Sent: … / To: … / Subject: …") starts here."""
    first = _HEADER_LINE.match(lines[i])
    if not first or first.group(1).lower() not in _FROM_KEYS:
        return False
    keys = {first.group(1).lower()}
    for line in lines[i + 1 : i + 8]:
        match = _HEADER_LINE.match(line)
        if match:
            keys.add(match.group(1).lower())
    return len(keys) >= 3 or (len(keys) == 2 and bool(keys & {"from", "dari", "von", "de", "da", "van"})
                              and bool(keys & {"sent", "date", "dikirim", "tanggal", "terkirim",
                                               "gesendet", "enviado", "datum", "fecha", "subject",
                                               "perihal", "subjek"}))


def _attribution_length(lines: list[str], i: int) -> int:
    """How many lines an "On … wrote:" attribution starting at line i spans (0: none)."""
    first = lines[i].strip()
    if not first or len(first) > 300:
        return 0
    if _DATE_ATTRIBUTION.match(first) and len(first) < 200:
        # Gmail's "2016-03-03 17:21 GMT+01:00 Some One <x@y>:" form
        return 1
    if not _WROTE_RE.search(" " + first) and not _ATTRIBUTION_START.match(first):
        return 0
    joined = ""
    taken = 0
    for j in range(i, min(i + 8, len(lines))):
        part = lines[j].strip()
        if j > i:
            part = part.lstrip(">").strip()
        if not part:
            continue
        taken += 1
        joined = f"{joined} {part}".strip()
        if len(joined) > 400 or taken > 5:
            return 0
        if (_WROTE_END.search(joined) and _HAS_WHEN_OR_WHO.search(joined)) or _DATED_ADDRESS_END.search(joined):
            if j > i and not (_ATTRIBUTION_START.match(first) or "@" in first or "<" in first):
                return 0
            return j - i + 1
        if j == i and not _ATTRIBUTION_START.match(first) and "@" not in first and "<" not in first:
            return 0
        if j > i and part.endswith((".", "!", "?")):
            return 0  # a sentence ended: this is prose that happens to precede an attribution
    return 0


def trim_reply(text: str, *, signature: bool = True) -> str:
    """The new text of a reply: quoted lines, "On … wrote:" / "Pada … menulis:" and what
    follows, Outlook header blocks ("From:/Sent:" and "Dari:/Dikirim:/Kepada:/Perihal:"),
    "-----Original Message-----" / "-----Pesan Asli-----" and what follows are removed; with
    ``signature`` (the default) also the "-- " signature and "Sent from my iPhone" /
    "Dikirim dari iPhone saya" lines and everything below them."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE).replace("\u00a0", " ")
    lines = text.split("\n")
    out: list[str] = []
    in_code = False
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            in_code = not in_code
            out.append(line)
            i += 1
            continue
        if in_code:
            out.append(line)
            i += 1
            continue
        has_text = any(o.strip() for o in out)
        if _QUOTE_LINE.match(line):
            i += 1
            continue
        if stripped and len(stripped) < 300 and (_ORIGINAL_MARKER.match(stripped) or _FORWARD_MARKER.match(line)):
            break  # everything below is the earlier message, with or without text above
        if _HEADER_LINE.match(line) and _is_header_block(lines, i):
            break
        span = _attribution_length(lines, i) if stripped else 0
        if span:
            if has_text:
                break  # a top-posted reply ends at the attribution of the quoted mail
            i += span  # bottom-posted: drop the attribution, keep what follows the quote
            continue
        if signature and (_SIGNATURE_DELIMITER.match(line) or _MOBILE_SIGNATURE.match(stripped)):
            if has_text:
                break
            i += 1
            continue
        if _DELIMITER.match(line) and (signature or not _SIGNATURE_DELIMITER.match(line)):
            if has_text:
                break
            i += 1
            continue
        out.append(line)
        i += 1
    return "\n".join(out).strip()


# ---------------------------------------------------------------------------------------------
# Intent

_NEGATORS = (
    r"not|never|don'?t|do not|doesn'?t|does not|didn'?t|can'?t|cannot|can not|won'?t|will not|"
    r"wouldn'?t|would not|couldn'?t|could not|unable to|not able to|no longer|"
    r"tidak|tdk|tak|gak|ga|gk|nggak|ngga|nggk|enggak|engga|ndak|belum|blm|bukan|jangan|kurang"
)
_ACCEPT_STRONG = {
    "en": r"accept(?:s|ed|ing)?|agree(?:s|d)?|(?:i|we) (?:approve|confirm)|sounds good|go ahead|"
          r"let'?s connect|happy to connect|glad to connect|please connect|we'?re in|i'?m in|count us in",
    "id": r"setuju|disetujui|menyetujui|terima|diterima|menerima|bersedia|sepakat|"
          r"lanjut(?:kan)?|silakan (?:dihubungkan|disambungkan|lanjut)|oke deh|ok deh",
}
_DECLINE_STRONG = {
    "en": r"declin(?:e|es|ed|ing)|reject(?:s|ed|ing)?|refuse[sd]?|not interested|no,? thanks?|"
          r"no thank you|not now|not at this time|unsubscribe|no longer",
    "id": r"tolak|tolong tolak|menolak|ditolak|tidak tertarik|tdk tertarik|gak tertarik|nggak tertarik|"
          r"tidak bisa|tdk bisa|gak bisa|ga bisa|nggak bisa|belum bisa|blm bisa|tidak mau|gak mau|"
          r"nggak mau|tidak perlu|tidak usah|gak usah|nggak usah|tidak dulu|"
          r"tidak bersedia|belum bersedia",
}
_ACCEPT_WEAK = {
    "en": {"yes", "yeah", "yep", "yup", "sure", "ok", "okay", "okey", "k", "alright", "fine", "agreed",
           "accepted", "approve", "approved", "confirm", "confirmed", "absolutely", "definitely", "certainly"},
    "id": {"ya", "iya", "iyaa", "iyah", "yaa", "yoi", "oke", "okee", "okeh", "okey", "oce", "baik",
           "siap", "sip", "boleh", "bisa", "mau", "mantap", "setuju", "terima", "diterima", "lanjut", "gas"},
}
_DECLINE_WEAK = {
    "en": {"no", "nope", "nah", "declined", "rejected"},
    "id": {"tidak", "tdk", "tak", "gak", "ga", "gk", "nggak", "ngga", "enggak", "engga", "ndak", "belum",
           "blm", "jangan", "ditolak", "tolak"},
}
# Words that may stand next to a one-word answer without changing it.
_FILLERS = {
    "please", "pls", "plz", "sir", "madam", "thanks", "thank", "you", "so", "much", "very", "indeed",
    "of", "course", "then", "i", "we", "dong", "deh", "kok", "lah", "kak", "pak", "bu", "bapak", "ibu",
    "mas", "mbak", "sudah", "udah", "saja", "aja", "ya", "yah", "nih", "sih", "kami", "saya", "silakan",
    "silahkan", "sekali", "banget", "tentu", "tentunya", "sangat", "betul", "benar", "bener",
    "and", "dan", "go", "ahead",
}
_NOISE = re.compile(
    r"\b(?:terima\s*kasih(?:\s+banyak)?(?:\s+atas\s+\w+(?:\s+\w+)?)?(?:nya)?|trima\s*kasih|terimakasih|makasih|"
    r"matur\s+nuwun|thanks?(?:\s+(?:so|very)\s+much)?(?:\s+for\s+(?:the|your)\s+\w+)?|"
    r"thank\s+you(?:\s+(?:so|very)\s+much)?(?:\s+for\s+(?:the|your)\s+\w+)?|thx|tq|tks|trims|"
    r"no\s+problem|no\s+worries|tidak\s+masalah|tidak\s+apa[- ]?apa|gak\s+apa[- ]?apa|"
    r"(?:sudah|telah|udah)\s+(?:kami|saya)?\s*terima|received|noted|best\s+regards|kind\s+regards|regards|"
    r"salam(?:\s+hangat|\s+sejahtera|\s+kenal)?|hormat\s+(?:kami|saya)|dengan\s+hormat|"
    r"selamat\s+(?:pagi|siang|sore|malam)|good\s+(?:morning|afternoon|evening)|"
    r"hi|hello|hallo|halo|hai|dear|yth)\b",
    re.I,
)
_QUESTION_START = re.compile(
    r"^(?:apa|apakah|bagaimana|gimana|kenapa|mengapa|kapan|siapa|berapa|dimana|di mana|bisakah|"
    r"bolehkah|haruskah|perlukah|maksudnya|what|why|how|when|where|who|which|whom|whose|"
    r"(?:can|could|should|would|will|shall|may|must|do|does|did|is|are|am|was|were|have|has)\s+\w+\s+\w+)\b",
    re.I,
)
_HELP_WORDS = {"help", "bantuan", "bantu", "tolong", "minta", "butuh", "perlu", "need", "me", "us",
               "please", "pls", "mohon", "saya", "kami", "i", "we", "info", "informasi"}
_STATUS_WORDS = {"status", "cek", "check", "lihat", "please", "pls", "mohon", "undangan", "invitation",
                 "saya", "kami", "my", "our", "the", "what", "whats", "what's", "is", "apa", "bagaimana",
                 "gimana", "info", "koneksi", "connection", "request", "permintaan"}
_ID_WORDS = {
    "apa", "ini", "itu", "apakah", "yang", "dan", "saya", "kami", "tidak", "untuk", "dengan", "harus",
    "bayar", "bisa", "mohon", "terima", "kasih", "bapak", "ibu", "ada", "akan", "belum", "sudah", "dari",
    "ke", "di", "kalau", "bagaimana", "gimana", "maaf", "tolong", "dong", "ya", "halo", "salam", "selamat",
    "pagi", "siang", "sore", "malam", "setuju", "tolak", "bantuan", "undangan", "kapan", "siapa", "mengapa",
    "kenapa", "perusahaan", "kita", "anda", "nanti", "dulu", "juga", "atau", "pak", "bu", "baik", "iya",
    "oke", "cek", "mau", "perlu", "biaya", "gratis", "ingin", "tanya", "hormat",
}
_EN_WORDS = {
    "the", "is", "what", "this", "we", "i", "you", "can", "and", "to", "of", "please", "thanks", "thank",
    "hello", "hi", "do", "does", "how", "why", "need", "have", "our", "my", "it", "are", "be", "for",
    "with", "regards", "dear", "yes", "no", "accept", "decline", "help", "invitation", "who", "when",
    "will", "would", "should", "could", "not", "later", "about", "pay", "free", "cost", "company",
    "a", "an", "that", "know", "sorry", "best",
}


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'").replace("´", "'")
    # Emoji, symbols and other punctuation become spaces; sentence punctuation stays.
    text = "".join(ch if ch.isalnum() or ch in " \n'?,.!;:-" else " " for ch in text)
    return re.sub(r"[ \t]+", " ", text)


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+(?:['-][^\W_]+)*", text)


def _focus_lines(text: str) -> list[str]:
    """The first lines of the reply that carry words: where people put their answer."""
    lines = []
    for line in text.split("\n"):
        if line.strip():
            lines.append(line.strip())
        if len(lines) >= 8:
            break
    return lines


def _sentences(lines: list[str]) -> list[tuple[str, bool]]:
    """(sentence, is_question) pairs in order."""
    out: list[tuple[str, bool]] = []
    for line in lines:
        for match in re.finditer(r"[^.!?;]+[.!?;]*", line):
            piece = match.group(0)
            body = piece.strip(" .!?;")
            if not body.strip():
                if "?" in piece and out:
                    out[-1] = (out[-1][0], True)
                continue
            out.append((body.strip(), "?" in piece))
    return out


_ID_NEGATORS = frozenset(
    "tidak tdk tak gak ga gk nggak ngga nggk enggak engga ndak belum blm bukan jangan kurang".split()
)
_NEGATED_ACCEPT = re.compile(
    rf"\b({_NEGATORS})\s+(?:[\w']+\s+){{0,2}}?"
    rf"(?:{_ACCEPT_STRONG['en']}|{_ACCEPT_STRONG['id']}|bisa|mau|ikut|join|connect|want)\b"
)
_NEGATED_DECLINE = re.compile(rf"\b(?:{_NEGATORS})\s+(?:{_DECLINE_STRONG['en']}|{_DECLINE_STRONG['id']})\b")
_DECLINE_RE = {lang: re.compile(rf"\b(?:{words})\b") for lang, words in _DECLINE_STRONG.items()}
_ACCEPT_RE = {lang: re.compile(rf"\b(?:{words})\b") for lang, words in _ACCEPT_STRONG.items()}


def _clause_decision(clause: str) -> tuple[set[str], set[str]]:
    """The decisions ("accept", "decline", "mixed") a clause expresses, and the languages of
    the words that expressed them."""
    decisions: set[str] = set()
    languages: set[str] = set()
    rest = f" {clause} "
    if _NEGATED_DECLINE.search(rest):
        # "tidak menolak", "not declining": too subtle to act on.
        return {"mixed"}, languages
    # Negated acceptance ("tidak setuju", "can't accept", "belum bisa") is a decline.
    while (match := _NEGATED_ACCEPT.search(rest)) is not None:
        decisions.add("decline")
        languages.add("id" if match.group(1).split()[0] in _ID_NEGATORS else "en")
        rest = rest[: match.start()] + " " + rest[match.end():]
    for lang, pattern in _DECLINE_RE.items():
        while (match := pattern.search(rest)) is not None:
            decisions.add("decline")
            languages.add(lang)
            rest = rest[: match.start()] + " " + rest[match.end():]
    for lang, pattern in _ACCEPT_RE.items():
        while (match := pattern.search(rest)) is not None:
            decisions.add("accept")
            languages.add(lang)
            rest = rest[: match.start()] + " " + rest[match.end():]
    meaningful = [w for w in _words(rest) if w not in _FILLERS]
    weak_accept = [w for w in meaningful if w in _ACCEPT_WEAK["en"] or w in _ACCEPT_WEAK["id"]]
    weak_decline = [w for w in meaningful if w in _DECLINE_WEAK["en"] or w in _DECLINE_WEAK["id"]]
    # A bare "yes"/"ya"/"ok"/"no"/"tidak" only counts when it is the whole clause (give or take
    # "please", "pak", "dong"): "Tidak ada masalah" or "Ok I'll think about it" decide nothing.
    if meaningful and len(weak_accept) + len(weak_decline) == len(meaningful):
        for word in weak_accept:
            decisions.add("accept")
            languages.add(_language_of_word(word, _ACCEPT_WEAK))
        for word in weak_decline:
            decisions.add("decline")
            languages.add(_language_of_word(word, _DECLINE_WEAK))
    elif not meaningful and not decisions:
        # only fillers: "ya" and "sudah" are fillers elsewhere but an answer on their own
        bare = [w for w in _words(rest) if w in ("ya", "yah")]
        if bare:
            decisions.add("accept")
            languages.add("id")
    languages.discard("")
    return decisions, languages


def _language_of_word(word: str, table: dict[str, set[str]]) -> str:
    if word in ("ok", "okay", "okey", "k"):
        return ""  # used alike in both languages
    if word in table["id"] and word not in table["en"]:
        return "id"
    if word in table["en"] and word not in table["id"]:
        return "en"
    return ""


def _guess_language(text: str) -> Language | None:
    words = _words(_normalize(text))
    id_count = sum(1 for w in words if w in _ID_WORDS)
    en_count = sum(1 for w in words if w in _EN_WORDS)
    if id_count > en_count:
        return "id"
    if en_count > id_count:
        return "en"
    return None


def _single_language(languages: set[str], text: str) -> Language | None:
    if languages == {"id"}:
        return "id"
    if languages == {"en"}:
        return "en"
    return _guess_language(text)


def _keyword_request(words: list[str]) -> tuple[Intent, Language | None] | None:
    """HELP / BANTUAN / STATUS, when that is essentially the whole text."""
    if not words or len(words) > 6:
        return None
    words = [w for w in words if w not in _FILLERS or w in _HELP_WORDS or w in _STATUS_WORDS]
    if set(words) <= _HELP_WORDS and {"help", "bantuan", "bantu", "tolong"} & set(words):
        if {"help", "need", "me", "i", "we", "us", "please", "pls"} & set(words) and not (
            {"bantuan", "bantu", "tolong", "mohon", "saya", "kami", "minta", "butuh", "perlu"} & set(words)
        ):
            return "help", "en"
        if "help" in words:
            return "help", _guess_language(" ".join(words)) or "en"
        return "help", "id"
    if set(words) <= _STATUS_WORDS and "status" in words:
        language = None
        if {"cek", "lihat", "mohon", "undangan", "saya", "kami", "apa", "bagaimana", "gimana",
            "koneksi", "permintaan"} & set(words):
            language = "id"
        elif {"check", "please", "pls", "invitation", "my", "our", "the", "what", "whats", "what's", "is",
              "connection", "request"} & set(words):
            language = "en"
        return "status", language
    return None


def intent_of(text: str) -> tuple[Intent, Language | None]:
    """What the new text of a reply asks for, and in which language it is written.

    Reads the first lines, where people put their answer ("Setuju.\\n\\nSalam,\\nBudi"). "Terima
    kasih" is thanks, not acceptance; negations ("tidak setuju", "I can't accept") decline;
    questions, contradictions ("yes and no") and empty text are unclear."""
    if not text or not text.strip():
        return "unclear", None
    lines = _focus_lines(text)
    # HELP / STATUS: the first paragraph that says anything (a sign-off may follow it)
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        words = _words(_NOISE.sub(" ", _normalize(paragraph)))
        if words:
            request = _keyword_request(words)
            if request:
                return request
            break
    sentences = _sentences([_normalize(line) for line in lines[:6]])
    decided: str | None = None
    decided_languages: set[str] = set()
    seen_after = 0
    for sentence, question in sentences[:8]:
        cleaned = _NOISE.sub(" ", sentence)
        clauses = [c for c in re.split(r"[,:]| - | but | tapi | tetapi | namun ", cleaned) if c.strip()]
        decisions: set[str] = set()
        languages: set[str] = set()
        for clause in clauses:
            found, langs = _clause_decision(clause)
            decisions |= found
            languages |= langs
        is_question = question or bool(_QUESTION_START.match(cleaned.strip()))
        if decided is None:
            if not decisions:
                continue
            if is_question or "mixed" in decisions or len(decisions) > 1:
                return "unclear", _single_language(languages, text)
            decided = decisions.pop()
            decided_languages = languages
            continue
        # After the answer: a contradiction makes it unclear; questions and other talk do not.
        seen_after += 1
        if seen_after > 3:
            break
        if decisions and not is_question and (decisions - {decided}):
            return "unclear", _single_language(languages | decided_languages, text)
    if decided is None:
        return "unclear", _guess_language(" ".join(lines[:6]))
    intent: Intent = "accept" if decided == "accept" else "decline"
    return intent, _single_language(decided_languages, " ".join(lines[:3]))


# ---------------------------------------------------------------------------------------------
# Automatic replies

_AUTO_SUBJECT = re.compile(
    r"^\s*(?:(?:re|aw|fw|fwd)\s*:\s*)*(?:auto\s*:|auto[- ]?reply|auto[- ]?response|autoreply|"
    r"automatic reply|automatische antwort|automatisch antwoord|autosvar|automatisk svar|"
    r"réponse automatique|respuesta automática|risposta automatica|resposta automática|"
    r"balasan otomatis|jawaban otomatis|abwesenheitsnotiz|fuori sede|frånvaro|"
    r"out of (?:the )?office|ooo\b|on vacation|vacation reply|away from (?:the )?office)",
    re.I,
)
_AUTO_SUBJECT_ANYWHERE = re.compile(
    r"out of (?:the )?office|automatic reply|auto[- ]reply|autoreply|balasan otomatis|di luar kantor|"
    r"sedang cuti|sedang berlibur|tidak di kantor|tidak berada di kantor|sedang tidak di kantor|"
    r"abwesenheitsnotiz|is away|away until",
    re.I,
)
_MACHINE_SENDER = re.compile(
    r"(?:^|[<\s\"'])(?:mailer[-_]?daemon|maildaemon|post[-_]?master|mail[-_]?delivery[-_]?(?:system|subsystem)?|"
    r"mmdf|majordomo|listserv|no[-_]?reply|do[-_]?not[-_]?reply|donotreply)@",
    re.I,
)
_LIST_HEADERS = ("list-id", "list-unsubscribe", "list-post", "list-help", "list-subscribe", "list-owner",
                 "list-archive", "mailing-list", "x-mailing-list", "x-mlserver", "x-ml-name", "x-loop-list")
_PRECEDENCE_MACHINE = {"bulk", "junk", "list", "auto_reply", "auto-reply", "autoreply"}


def is_auto_reply(msg: bytes | Message, *, envelope_sender: str | None = None) -> bool:
    """Whether the message was sent by a program rather than typed as an answer: RFC 3834
    ``Auto-Submitted`` (anything but "no"), ``X-Autoreply``/``X-Autorespond``, Exchange's
    ``X-Auto-Response-Suppress`` together with ``X-MS-Exchange-Inbox-Rules-Loop``,
    ``Precedence: bulk/junk/list/auto_reply``, mailing-list headers (suppliers answer
    personally, so list mail is never an answer), a null return path, no-reply / mailer-daemon
    senders, reports (read receipts, DSNs) and out-of-office subjects in English, Indonesian
    and a few other languages."""
    msg = parse(msg)
    if envelope_sender is not None and envelope_sender.strip() in ("", "<>"):
        return True
    auto_submitted = _header(msg, "auto-submitted").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return True
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder", "x-autoreply-from", "x-mail-autoreply",
                 "x-autogenerated", "x-auto-response", "x-autoresponse"):
        value = _header(msg, name).strip().lower()
        if _has_header(msg, name) and value not in ("no", "false", "0"):
            return True
    # X-Auto-Response-Suppress asks others not to auto-reply; Exchange also puts it on mail that
    # people send (e.g. through distribution lists), so alone it proves nothing. With the header
    # Exchange adds to mail its inbox rules (the out-of-office assistant) generate, it does.
    if _has_header(msg, "x-auto-response-suppress") and (
        _has_header(msg, "x-ms-exchange-inbox-rules-loop")
        or _has_header(msg, "x-ms-exchange-generated-message-source")
    ):
        return True
    for name in ("precedence", "x-precedence"):
        if _header(msg, name).strip().lower() in _PRECEDENCE_MACHINE:
            return True
    # Suppliers answer personally; anything sent through a list is bulk mail, not an answer.
    if any(_has_header(msg, name) for name in _LIST_HEADERS):
        return True
    if any(value.strip() in ("<>", "") for value in _headers(msg, "return-path")) and _has_header(msg, "return-path"):
        return True
    if _header(msg, "x-apple-action").strip().upper() == "VACATION":
        return True
    if _MACHINE_SENDER.search(" " + _header(msg, "from")) or _MACHINE_SENDER.search(" " + _header(msg, "sender")):
        return True
    if _content_type(msg) == "multipart/report":
        return True
    for part in _walk(msg):
        if _content_type(part) in ("message/disposition-notification", "message/delivery-status",
                                   "message/feedback-report", "message/global-delivery-status"):
            return True
    subject = _header(msg, "subject")
    return bool(_AUTO_SUBJECT.match(subject) or _AUTO_SUBJECT_ANYWHERE.search(subject))


# ---------------------------------------------------------------------------------------------
# Bounces

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


# ---------------------------------------------------------------------------------------------
# The whole verdict

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
        intent, language = intent_of(text)
        return Reading("human", None, text, intent, language)
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
