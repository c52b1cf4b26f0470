"""Mail written on the wire directly (mail/wire.py) reads back with the standard library as the
``EmailMessage`` composer it replaced wrote it: for every kind of email in both languages, the
same headers, subject, names and addresses, and the same plain text and HTML. Also what the
standard library never checked for us: CRLF line endings, lines of at most 998 characters."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

import pytest

import tautan.mail.compose as compose_module
from tautan.core.outbox import OutboxItem
from tautan.mail.compose import ANSWER_KINDS, CONFIRMATION_KINDS, INVITATION_KINDS, SUPPLIER_KINDS, compose
from tautan.mail.wire import Mailbox, alternative, encoded_words, unstructured, write
from tests.mail.test_compose import CONFIG, NOW, invitation

ONBOARDING = {"customer": "PT Pelanggan Jaya", "contact": "Budi <budi@pelanggan.co.id>",
              "ways": [{"type": "invoice", "method": "email", "value": "faktur@pelanggan.co.id"},
                       {"type": "order", "method": "peppol", "value": "0195:1234"}],
              "instructions": {"id": "Cantumkan nomor PO.", "en": "Quote the PO number."}}
PAYLOADS: dict[str, dict[str, Any]] = {
    "accepted": {"onboarding": ONBOARDING, "types": ["invoice"]},
    "declined": {},
    "answer_unclear": {"original_subject": "Re: Undangan — pertanyaan", "in_reply_to": "<q1@pt-maju.co.id>"},
    "answer_help": {"original_subject": "bantuan", "in_reply_to": "<q2@pt-maju.co.id>"},
    "answer_status": {"connections": [["PT Pelanggan Jaya", "invoice", "connected"], ["CV Ümit", "order", "invited"]]},
    "answer_other_sender": {"original_subject": "Setuju"},
    "answer_closed": {"original_subject": "RE: Undangan"},
    "answer_expired": {},
    "request_confirm": {"customer": "PT Śrī Wijaya", "link": "https://tautan.example.id/r/abc", "valid_days": 7},
    "request_unknown": {"original_subject": "minta bergabung", "address": "request+pt-x@connect.example.id"},
    "answer_confirm": {"accept": ["invoice"], "decline": ["order"], "intent": "accept",
                       "original_subject": "ya untuk faktur, tidak untuk pesanan"},
    "answer_confirm_refused": {"original_subject": "ya"},
    "sign_in": {"nonce": "n0nce"},
    "contact_added": {"supplier": "PT Maju", "added_by": "ana@pt-maju.co.id"},
}
DECISIONS = ("approved", "denied", "cancelled", "disconnected", "waiting")


def samples() -> list[tuple[str, str, OutboxItem]]:
    """One outbox row of every kind (each decision of the supplier page's too), in both languages."""
    found = []
    for lang in ("en", "id"):
        view = dataclasses.replace(invitation(customer="PT Śrī Wijaya Tbk.", message="Mohon bergabung 🙏\nTerima kasih",
                                              lang=lang),
                                   inviter_name="Budi Santoso", inviter_email="budi@pelanggan.co.id",
                                   join_path="/join/pt-sri-wijaya")
        kinds = [(kind, PAYLOADS.get(kind, {})) for kind in INVITATION_KINDS + CONFIRMATION_KINDS + ANSWER_KINDS
                 + SUPPLIER_KINDS if kind != "decision"]
        kinds += [(f"decision:{d}", {"decision": d, "customer": "PT Pelanggan Jaya", "supplier": "PT Maju",
                                     "types": ["invoice", "order"], "connection_ids": [4], "reason": "Tidak cocok",
                                     "thread": [3, "20260302093000"],
                                     "onboarding": ONBOARDING if d == "approved" else None})
                  for d in DECISIONS]
        for name, payload in kinds:
            kind = name.partition(":")[0]
            row = OutboxItem(id=11, channel="email", kind=kind, recipient=view.email, lang=lang, attempts=1,
                             created_at=NOW, payload=payload, thread=(3, NOW - dt.timedelta(days=4)),
                             invitation=None if kind in SUPPLIER_KINDS or kind == "request_unknown" else view)
            found.append((name, lang, row))
    return found


def reference(fields: list[tuple[str, str | Mailbox]], text: str, html: str, language: str) -> EmailMessage:
    """What the composer this replaced wrote for the same fields and texts, through ``EmailMessage``."""
    message = EmailMessage()
    for name, value in fields:
        message[name] = (Address(display_name=value.display_name, addr_spec=value.addr_spec)
                         if isinstance(value, Mailbox) else value)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = language
    wire = policy.SMTP.clone(max_line_length=998)
    parsed = email.message_from_bytes(message.as_bytes(policy=wire), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def read(data: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def assert_same(ours: EmailMessage, theirs: EmailMessage) -> None:
    names = [name for name in theirs if name.lower() != "content-type"]
    assert [name for name in ours if name.lower() != "content-type"] == names
    for name in names:
        assert str(ours[name]) == str(theirs[name]), name
    for header in ("From", "To", "Reply-To"):
        if theirs[header] is not None:
            assert ([(a.display_name, a.addr_spec) for a in ours[header].addresses]
                    == [(a.display_name, a.addr_spec) for a in theirs[header].addresses])
    assert ours.get_content_type() == "multipart/alternative"
    for subtype in ("plain", "html"):
        mine, old = ours.get_body((subtype,)), theirs.get_body((subtype,))
        assert mine is not None and old is not None
        assert mine.get_content() == old.get_content()
        assert mine.get_content_charset() == "utf-8"


@pytest.mark.parametrize(("name", "lang", "row"), samples(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_kind_reads_back_as_the_email_message_composer_wrote_it(name: str, lang: str, row: OutboxItem,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Any, ...]] = []

    def spy(fields: Any, text: str, html: str, *, language: str) -> Any:
        seen.append((list(fields), text, html, language))
        return write(fields, text, html, language=language)

    monkeypatch.setattr(compose_module, "write", spy)
    outgoing = compose(row, CONFIG, now=NOW)
    data = outgoing.as_bytes()
    (fields, text, html, language), = seen
    assert language == lang
    ours = read(data)
    assert_same(ours, reference(fields, text, html, language))
    assert ours["Content-Language"] == lang and ours["MIME-Version"] == "1.0"
    assert ours["Message-ID"] == "<tautan.11.20260302093000@connect.example.id>"
    assert b"\n" not in data.replace(b"\r\n", b"") and b"\r" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert data.split(b"\r\n\r\n", 1)[0].isascii()
    assert outgoing.message["Subject"] == ours["Subject"]  # the parsed view the tests read


def test_the_same_row_is_written_the_same_way_every_time() -> None:
    """A retry sends the same Message-ID (and, at the same moment, the very same bytes)."""
    for _, _, row in samples():
        assert compose(row, CONFIG, now=NOW).as_bytes() == compose(row, CONFIG, now=NOW).as_bytes()


@pytest.mark.parametrize("text", ["Undangan dari PT Śrī Wijaya Tbk.", "🙏" * 80, "x" * 1200, "a  b\tc",
                                  "  leading and trailing  ", "ü" + "y" * 100])
def test_unstructured_text_reads_back_as_written(text: str) -> None:
    value = unstructured("Subject", text)
    data = f"Subject: {value}\r\n\r\n".encode("ascii")
    assert all(len(line) <= 85 or "=?" not in line for line in data.decode().split("\r\n"))
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert read(data)["Subject"] == text.strip() if not text.isascii() or len(text) > 900 else text


def test_encoded_words_stay_within_75_characters() -> None:
    for word in encoded_words("Ümit " * 60).split("\r\n "):
        assert len(word) <= 75 and word.startswith("=?utf-8?") and word.endswith("?=")


def test_a_long_name_stays_within_the_line_length() -> None:
    row = dataclasses.replace(samples()[0][2], invitation=invitation(customer="Ś" * 600, lang="en"))
    data = compose(row, CONFIG, now=NOW).as_bytes()
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert read(data)["Subject"] == f"Invitation from {'Ś' * 600}: send invoices electronically"


def test_a_line_break_never_gets_into_a_header() -> None:
    with pytest.raises(ValueError):
        write([("In-Reply-To", "<a@b>\r\nBcc: eve@evil.test")], "x", "<p>x</p>", language="en")
    with pytest.raises(ValueError):
        write([("To", Mailbox("eve@evil.test\r\nBcc: x@y.z"))], "x", "<p>x</p>", language="en")


def test_an_address_the_standard_library_refuses_is_refused() -> None:
    """A non-ASCII local part (SMTPUTF8) was never composed; it still fails, not half-written."""
    with pytest.raises(ValueError):
        write([("To", Mailbox("ánä@pt-maju.co.id"))], "x", "<p>x</p>", language="en")


@pytest.mark.parametrize("text", ["plain ASCII\n", "no newline at the end", "Ümit\r\nwith CRLF\rand CR\n",
                                  "y" * 2000 + "\n", "trailing space \nand tab\t\n", "=?utf-8?q?x?= = 3D\n"])
def test_bodies_read_back_as_written(text: str) -> None:
    content_type, body = alternative(text, f"<p>{text}</p>")
    data = f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n".encode() + body
    parsed = read(data)
    assert parsed.get_body(("plain",)).get_content() == lines(text)
    assert parsed.get_body(("html",)).get_content() == lines(f"<p>{text}</p>")
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert b"\n" not in data.replace(b"\r\n", b"")


def lines(text: str) -> str:
    """Text as a reader gets it back from the wire: CRLF line breaks, and one at the end."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return (text if text.endswith("\n") else text + "\n").replace("\n", "\r\n")
