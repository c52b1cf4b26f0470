"""A message's body as text: text/plain, else its HTML converted (quoted HTML dropped)."""

from __future__ import annotations

import logging
import re
from email.message import Message
from html.parser import HTMLParser

from tautan.mail.understand.mime import _content_type, _is_attachment, _part_text, _walk, parse

log = logging.getLogger(__name__)

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
