"""Parsing inbound mail and safe access to its headers and parts."""

from __future__ import annotations

import email
import email.header
import email.policy
import re
from collections.abc import Iterator
from email.message import Message
from typing import cast

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
    cached: str | None = getattr(part, "_tautan_content_type", None)
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


# A bound on parts read, not on depth: a deeply nested message (some gateways wrap mail in a
# multipart per hop) with a readable text part is still read, and a hostile one stays cheap.
_MAX_PARTS = 2000


def _walk(msg: Message, *, into_messages: bool = False) -> Iterator[Message]:
    """Every part in order; by default not into attached messages (message/rfc822), whose text
    is the earlier mail, not this one. Iterative, so nesting depth costs no stack."""
    stack = [msg]
    seen = 0
    while stack and seen < _MAX_PARTS:
        part = stack.pop()
        seen += 1
        yield part
        ctype = _content_type(part)
        if ctype.startswith("message/") and not into_messages:
            continue
        if ctype == "message/delivery-status" or ctype == "message/global-delivery-status":
            continue
        stack.extend(reversed(_subparts(part)))


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
        data = cast("bytes | None", part.get_payload(decode=True))
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
