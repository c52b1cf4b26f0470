"""A very deeply nested MIME message that still carries a readable text part is read."""

from __future__ import annotations

from tautan.mail.understand import read


def nested(depth: int, text: str) -> bytes:
    head = ("From: ana@pt-maju.co.id\r\nSubject: Re: undangan\r\nMessage-ID: <deep@pt-maju.co.id>\r\n"
            "MIME-Version: 1.0\r\n")
    opening = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth))
    closing = "".join(f"--b{i}--\r\n" for i in reversed(range(depth)))
    return (head + opening + f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n" + closing).encode()


def test_a_deeply_nested_reply_is_read() -> None:
    reading = read(nested(300, "Setuju."), envelope_sender="ana@pt-maju.co.id")
    assert (reading.kind, reading.intent) == ("human", "accept")


def test_order_of_parts_is_kept() -> None:
    raw = (b"From: a@b.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=x\r\n\r\n"
           b"--x\r\nContent-Type: text/plain\r\n\r\nTidak, terima kasih.\r\n--x\r\nContent-Type: text/plain\r\n\r\n"
           b"Setuju\r\n--x--\r\n")
    assert read(raw).intent == "decline"
