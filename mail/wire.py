"""A message written on the wire directly: header lines, and a multipart/alternative body of
plain text and HTML, as bytes with CRLF line endings.

``email.message.EmailMessage`` builds header objects, parses them back and runs a generator
over them: several milliseconds a message, most of the worker's time, for a layout that never
changes. What is written here reads back with the standard library (``policy.default``) to
the same headers and texts."""

from __future__ import annotations

import binascii
import hashlib
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.charset import Charset
from email.headerregistry import Address
from email.utils import formataddr

# RFC 5322 §2.1.1: a line is at most 998 characters. Header fields stay on one line up to that
# (a long List-Unsubscribe address stays a URL, never folded into encoded words); only text
# that must be encoded is folded, between encoded words of at most 75 characters (RFC 2047 §2).
MAX_LINE = 998
_WORD = 75
_UTF8 = Charset("utf-8")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


@dataclass(frozen=True)
class Mailbox:
    """An address header's value: ``addr_spec``, with the name a reader sees, if any."""

    addr_spec: str
    display_name: str = ""


# A message's header fields as the composer means them: text, or a mailbox.
Fields = list[tuple[str, str | Mailbox]]
Headers = tuple[tuple[str, str], ...]


def write(fields: Sequence[tuple[str, str | Mailbox]], text: str, html: str, *, language: str) -> tuple[Headers, bytes]:
    """The header fields as written on the wire (with MIME-Version, Content-Type and
    Content-Language), and the multipart/alternative body of ``text`` and ``html``."""
    content_type, body = alternative(text, html)
    headers = tuple((name, address(value.addr_spec, value.display_name) if isinstance(value, Mailbox)
                     else unstructured(name, value)) for name, value in fields)
    return headers + (("MIME-Version", "1.0"), ("Content-Type", content_type), ("Content-Language", language)), body


def encoded_words(text: str) -> str:
    """``text`` as RFC 2047 encoded words (UTF-8), each within 75 characters, folded between them."""
    return "\r\n ".join(line or "" for line in _UTF8.header_encode_lines(text, itertools.repeat(_WORD)))


def unstructured(name: str, value: str) -> str:
    """An unstructured header value (Subject, In-Reply-To): as it is when it is ASCII and fits
    on its line, else encoded words."""
    _one_line(value)
    if value.isascii() and len(name) + 2 + len(value) <= MAX_LINE:
        return value
    return encoded_words(value)


def address(addr_spec: str, display_name: str = "") -> str:
    """A mailbox (``Name <local@domain>``): the name quoted when it has specials, encoded words
    when it is not ASCII. An address the plain form does not cover goes through the standard
    library, which quotes its local part or refuses it (a non-ASCII one, as before)."""
    _one_line(addr_spec + display_name)
    spec = addr_spec if _PLAIN_ADDRESS.fullmatch(addr_spec) else str(Address(addr_spec=addr_spec))
    if not display_name:
        return spec
    # A name in one piece (one encoded word when it is not ASCII): readers put no space into a
    # name written in one word, and some put one between encoded words of a name.
    whole = formataddr((display_name, spec), charset=_UTF8)
    if len(whole) <= MAX_LINE - len("Reply-To: "):
        return whole
    return f"{encoded_words(display_name)} <{spec}>"  # a name too long for one line: in pieces


def _one_line(value: str) -> None:
    if "\r" in value or "\n" in value:
        raise ValueError("Header values may not contain linefeed or carriage return characters")


def header_block(headers: Headers) -> bytes:
    """The header lines, then the empty line that ends them. ASCII only: anything else was
    encoded above, so a stray character fails here instead of going out unreadable."""
    return "".join(f"{name}: {value}\r\n" for name, value in headers).encode("ascii") + b"\r\n"


def alternative(text: str, html: str) -> tuple[str, bytes]:
    """A multipart/alternative of ``text`` and ``html``: the Content-Type value and the body.

    The boundary is a hash of the parts, so it can never occur in them, and the same message
    is written the same way every time."""
    parts = (_part("plain", text), _part("html", html))
    boundary = "=_" + hashlib.blake2b(b"".join(parts), digest_size=15).hexdigest()
    marker = f"--{boundary}\r\n".encode("ascii")
    # The CRLF before a boundary belongs to the boundary (RFC 2046 §5.1.1): each part's last
    # line break is followed by one more, so the text reads back ending with its newline.
    body = b"".join(marker + part + b"\r\n" for part in parts) + f"--{boundary}--\r\n".encode("ascii")
    return f'multipart/alternative; boundary="{boundary}"', body


def _part(subtype: str, content: str) -> bytes:
    lines = content.replace("\r\n", "\n").replace("\r", "\n")
    if not lines.endswith("\n"):
        lines += "\n"
    if lines.isascii() and max(map(len, lines.split("\n"))) <= MAX_LINE:
        encoding, data = "7bit", lines.encode("ascii")
    else:  # quoted-printable: readable in the raw message, lines of at most 76 characters
        encoding, data = "quoted-printable", binascii.b2a_qp(lines.encode("utf-8"), istext=True)
    head = (f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n").encode("ascii")
    return head + data.replace(b"\n", b"\r\n")
