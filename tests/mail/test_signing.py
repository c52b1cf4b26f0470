"""DKIM signatures made by mail/signing.py verify with an independent verifier (dkimpy), for
every kind of email, with non-ASCII names and long headers; they survive what relays do under
relaxed/relaxed (refolded headers, rewrapped whitespace) and break on what a forger does (a
changed body, a second From or Subject added above or below)."""

from __future__ import annotations

import dataclasses

import dkim
import pytest
from dkim.canonicalization import Relaxed
from hypothesis import given
from hypothesis import strategies as st

from tautan.mail.compose import DkimKey, compose
from tautan.mail.signing import relaxed_body, relaxed_header, sign
from tests.mail.test_compose import CONFIG, NOW, invitation, item
from tests.mail.test_wire import samples
from tests.support.certs import dkim_key_pair

SELECTOR, DOMAIN = "tautan", "connect.example.id"


def key_pair() -> tuple[bytes, str]:
    return dkim_key_pair()


def dns(name: bytes, timeout: int = 5) -> bytes:
    assert name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode()
    return f"v=DKIM1; k=rsa; p={key_pair()[1]}".encode()


def verifies(data: bytes) -> bool:
    return bool(dkim.verify(data, dnsfunc=dns))


KEY = DkimKey(selector=SELECTOR, domain=DOMAIN, private_key=b"")


def signed(row=None, **changes) -> bytes:  # noqa: ANN001, ANN003
    row = row or item(invitation(**changes))
    return compose(row, CONFIG, now=NOW).as_bytes(dataclasses.replace(KEY, private_key=key_pair()[0]))


def test_the_relaxed_forms_of_rfc_6376():
    """The example of RFC 6376 §3.4.5."""
    assert relaxed_header("A", "X") + relaxed_header("B ", "Y\t\r\n\tZ  ") == b"a:X\r\nb:Y Z\r\n"
    assert relaxed_body(b" C \r\nD \t E\r\n\r\n\r\n") == b" C\r\nD E\r\n"
    assert relaxed_body(b"") == b"" and relaxed_body(b"\r\n\r\n") == b""
    assert relaxed_body(b"no end  ") == b"no end \r\n"  # as dkimpy reads it (our bodies end with CRLF)


@given(st.lists(st.text(st.sampled_from(" \tab=\u00e9"), max_size=12), max_size=8), st.booleans())
def test_the_relaxed_body_is_dkimpys(lines: list[str], final_break: bool) -> None:
    body = "\r\n".join(lines).encode() + (b"\r\n" if final_break else b"")
    assert relaxed_body(body) == Relaxed.canonicalize_body(body)


@given(st.text(st.sampled_from(" \tab=:\u00e9"), max_size=30), st.sampled_from(["\r\n ", "\r\n\t", " "]))
def test_a_relaxed_header_is_dkimpys(value: str, fold: str) -> None:
    folded = value.replace("=", fold)
    ((name, canonical),) = Relaxed.canonicalize_headers([(b"Subject", folded.encode())])
    assert relaxed_header("Subject", folded) == name + b":" + canonical


@pytest.mark.parametrize(("name", "lang", "row"), samples(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_kind_verifies(name: str, lang: str, row) -> None:  # noqa: ANN001
    data = signed(row)
    assert data.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=connect.example.id;")
    assert verifies(data)


@pytest.mark.parametrize("customer", ["PT Śrī Wijaya Tbk.", "Toko Kue 🍰 Ibu Ani", 'PT "Kutip" & <Saudara>',
                                      "CV Sinar Ümit — Çay & Şeker " * 12, "x" * 200])
def test_names_and_long_headers_verify(customer: str) -> None:
    data = signed(customer=customer, supplier=customer, message="Halo 👋\n" * 3)
    assert verifies(data)
    assert b"\r\n =?utf-8?" in data or customer.isascii()  # a folded header: the signature covers it unfolded


def test_the_signature_survives_relays_under_relaxed_canonicalisation() -> None:
    data = signed(customer="PT Śrī Wijaya Tbk. " * 6)
    head, body = data.split(b"\r\n\r\n", 1)
    refolded = head.replace(b"\r\n =?utf-8?", b"\r\n\t=?utf-8?").replace(b"Subject: ", b"Subject:   ")
    rewrapped = body.replace(b"\r\n", b"  \r\n").replace(b" ", b"\t") + b"\r\n\r\n"
    assert verifies(refolded + b"\r\n\r\n" + rewrapped)


def test_a_changed_body_or_header_breaks_it() -> None:
    data = signed(message="Halo 👋")
    assert verifies(data)
    assert not verifies(data.replace(b"Halo", b"Hola"))
    assert not verifies(data.replace(b"To: ana@pt-maju.co.id", b"To: eve@evil.test"))


@pytest.mark.parametrize("header", [b"From: Bank <security@bank.example>", b"Subject: Urgent: reset your password",
                                    b"Reply-To: eve@evil.test", b"List-Unsubscribe: <https://evil.test/>"])
@pytest.mark.parametrize("where", ["top", "bottom"])
def test_an_added_trusted_header_breaks_it(header: bytes, where: str) -> None:
    """Over-signing: From, Subject, Reply-To and List-Unsubscribe are signed once more than they
    occur, so a second one, wherever it is added, does not verify."""
    data = signed()
    signature, rest = data.split(b"\r\n", 1)
    while rest.startswith((b" ", b"\t")):  # the signature's folded lines
        line, rest = rest.split(b"\r\n", 1)
        signature += b"\r\n" + line
    head, body = rest.split(b"\r\n\r\n", 1)
    tampered = (signature + b"\r\n" + (header + b"\r\n" + head if where == "top" else head + b"\r\n" + header)
                + b"\r\n\r\n" + body)
    assert verifies(signature + b"\r\n" + head + b"\r\n\r\n" + body)
    assert not verifies(tampered)


def test_an_answer_without_reply_to_still_protects_it() -> None:
    """A header that is absent is signed as absent: adding it later breaks the signature."""
    row = next(row for name, _, row in samples() if name == "sign_in")
    data = signed(row)
    assert b"Reply-To:" not in data and verifies(data)
    head, body = data.split(b"\r\n\r\n", 1)
    assert not verifies(head + b"\r\nReply-To: eve@evil.test\r\n\r\n" + body)


def test_sign_lists_the_headers_it_covers() -> None:
    headers = (("From", "a@b.c"), ("Subject", "x"), ("Date", "now"), ("X-Other", "not signed"))
    line = sign(headers, b"body\r\n", domain=DOMAIN, selector=SELECTOR, private_key=key_pair()[0],
                signed=("date", "to"), oversigned=("from", "subject", "reply-to"))
    assert "h=date:from:from:subject:subject:reply-to;" in line and line.endswith("\r\n")
