"""Handing messages to the outside: an SMTP relay (plain, STARTTLS, SSL, AUTH) or, by default, a
local maildir so the embedded mode works offline."""

from __future__ import annotations

import contextlib
import logging
import mailbox
import smtplib
import socket
import ssl
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A message did not go out. ``permanent`` failures (5xx) are not retried."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class RelayUnavailable(DeliveryError):
    """The relay could not be reached, or the connection to it broke: nothing about the message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, permanent=False)


class Connection(Protocol):
    def send(self, data: bytes, envelope_from: str, recipients: Sequence[str]) -> None: ...


class Transport(Protocol):
    description: str

    def connect(self) -> contextlib.AbstractContextManager[Connection]: ...


class MaildirTransport:
    """Writes each message into a maildir (``./var/sent-mail`` by default)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.description = f"maildir {self.path}"

    @contextlib.contextmanager
    def connect(self) -> Iterator[MaildirTransport]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._box = mailbox.Maildir(self.path, create=True)
        except OSError as error:
            raise RelayUnavailable(f"maildir: {error.strerror}") from None
        yield self

    def send(self, data: bytes, envelope_from: str, recipients: Sequence[str]) -> None:
        envelope = f"Return-Path: <{envelope_from}>\r\nDelivered-To: {', '.join(recipients)}\r\n".encode()
        try:
            self._box.add(envelope + data)
        except OSError as error:
            raise RelayUnavailable(f"maildir: {error.strerror}") from error


class SmtpTransport:
    """An SMTP relay from ``smtp://user:pass@host:port`` (``?starttls=1`` or port 587 for
    STARTTLS) or ``smtps://…`` (TLS from the start)."""

    def __init__(self, url: str, *, timeout: float = 30.0, ssl_context: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("SMTP_RELAY_URL must start with smtp:// or smtps://")
        self.host = parts.hostname or "localhost"
        self.implicit_tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.implicit_tls else 25)
        query = parse_qs(parts.query)
        self.starttls = not self.implicit_tls and (
            query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes") or self.port == 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()
        # never the password: this goes to logs
        self.description = f"{parts.scheme}://{self.host}:{self.port}"

    @contextlib.contextmanager
    def connect(self) -> Iterator[_SmtpConnection]:
        try:
            if self.implicit_tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                        context=self.ssl_context)
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            client.ehlo_or_helo_if_needed()
            if self.starttls:
                client.starttls(context=self.ssl_context)
                client.ehlo()
            if self.username:
                client.login(self.username, self.password or "")
        except smtplib.SMTPAuthenticationError as error:
            raise RelayUnavailable(f"relay refused our login ({error.smtp_code})") from None
        except (OSError, smtplib.SMTPException) as error:
            raise RelayUnavailable(f"relay unreachable: {_describe(error)}") from None
        try:
            yield _SmtpConnection(client)
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                client.quit()


class _SmtpConnection:
    def __init__(self, client: smtplib.SMTP) -> None:
        self.client = client

    def send(self, data: bytes, envelope_from: str, recipients: Sequence[str]) -> None:
        options: list[str] = []
        if not all(address.isascii() for address in (envelope_from, *recipients)):
            # An international address (ánä@pémasok.example) needs SMTPUTF8 (RFC 6531); a relay
            # without it never will take this message, so that is a permanent, visible failure.
            try:
                self.client.ehlo_or_helo_if_needed()
            except (smtplib.SMTPException, OSError) as error:
                raise RelayUnavailable(f"relay connection lost: {_describe(error)}") from None
            if not self.client.has_extn("smtputf8"):
                raise DeliveryError("the relay does not offer SMTPUTF8, needed for an international address",
                                    permanent=True)
            options.append("SMTPUTF8")
        try:
            refused = self.client.sendmail(envelope_from, list(recipients), data, mail_options=options)
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise DeliveryError(f"{code} {_text(text)}", permanent=code >= 500) from None
        except smtplib.SMTPResponseException as error:
            # 5xx to the message itself (policy, content) is final; our own sender being refused is
            # our configuration, not the recipient's fault, and is retried.
            permanent = error.smtp_code >= 500 and not isinstance(error, smtplib.SMTPSenderRefused)
            raise DeliveryError(f"{error.smtp_code} {_text(error.smtp_error)}", permanent=permanent) from None
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            raise RelayUnavailable(f"relay connection lost: {_describe(error)}") from None
        except smtplib.SMTPException as error:
            raise DeliveryError(f"relay error: {_describe(error)}", permanent=False) from None
        if refused:  # several recipients, some refused: we only ever send to one
            code, text = next(iter(refused.values()))
            raise DeliveryError(f"{code} {_text(text)}", permanent=code >= 500)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _describe(error: BaseException) -> str:
    if isinstance(error, socket.timeout):
        return "timed out"
    return error.__class__.__name__ + (f" ({error.strerror})" if isinstance(error, OSError) and error.strerror else "")


def transport_from_url(url: str | None, *, maildir: str | Path = "var/sent-mail") -> Transport:
    if not url:
        return MaildirTransport(maildir)
    return SmtpTransport(url)
