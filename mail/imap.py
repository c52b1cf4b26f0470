"""The IMAP poller (imapclient), for deployments where tautan's mail lands in a mailbox.

Each message is stored raw in the inbox (idempotent by Message-ID, so a message fetched twice
after a crash is kept once), processed, then moved to ``Processed`` or ``Failed``. A message is
only moved once it is safely stored, so an outage never loses one. IDLE when the server offers
it, polling otherwise; the connection is re-established after drops.
"""

from __future__ import annotations

import logging
import ssl
import threading
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses
from urllib.parse import parse_qs, unquote, urlsplit

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from tautan.core import inbox
from tautan.core.errors import TautanError
from tautan.core.model import InboxStatus
from tautan.mail.inbound import Envelope, Inbound, parse_recipient

log = logging.getLogger(__name__)

RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc")
RECONNECT_DELAYS = (1, 2, 5, 10, 30, 60)


class ImapPoller:
    def __init__(self, url: str, inbound: Inbound, *, processed: str = "Processed", failed: str = "Failed",
                 idle_seconds: int = 300, poll_seconds: int = 30, timeout: float = 30.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps"):
            raise ValueError("IMAP_URL must start with imap:// or imaps://")
        self.host = parts.hostname or "localhost"
        self.implicit_tls = parts.scheme == "imaps"
        self.port = parts.port or (993 if self.implicit_tls else 143)
        self.starttls = parse_qs(parts.query).get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
        self.username = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        self.mailbox = unquote(parts.path.lstrip("/")) or "INBOX"
        self.processed, self.failed = processed, failed
        self.idle_seconds, self.poll_seconds, self.timeout = idle_seconds, poll_seconds, timeout
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.inbound = inbound
        self.description = f"{parts.scheme}://{self.host}:{self.port}/{self.mailbox}"  # no password: logs

    def connect(self) -> IMAPClient:
        client = IMAPClient(self.host, port=self.port, ssl=self.implicit_tls, ssl_context=self.ssl_context,
                            timeout=self.timeout)
        if self.starttls:
            client.starttls(self.ssl_context)
        client.login(self.username, self.password)
        for folder in (self.processed, self.failed):
            if not client.folder_exists(folder):
                client.create_folder(folder)
        client.select_folder(self.mailbox)
        return client

    def poll_once(self) -> int:
        """Connect, take every message waiting in the mailbox, disconnect. Returns how many."""
        client = self.connect()
        try:
            return self._drain(client)
        finally:
            _logout(client)

    def _drain(self, client: IMAPClient) -> int:
        uidvalidity = client.folder_status(self.mailbox, ["UIDVALIDITY"]).get(b"UIDVALIDITY", 0)
        handled = 0
        for uid in client.search(["NOT", "DELETED"]):
            fetched = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {})
            raw = fetched.get(b"BODY[]")
            if raw is None:
                continue
            envelope = envelope_of(raw, self.inbound.config.mail_domain)
            try:
                stored = self.inbound.receive(raw, envelope, source=f"imap:{self.mailbox}:{uidvalidity}:{uid}")
                if not stored.duplicate:
                    self.inbound.process_pending(ids=[stored.id])
                status = inbox.status_of(self.inbound.uow(), inbox_id=stored.id)
            except TautanError as error:  # the database is away: leave the message where it is
                log.warning("imap: could not store message %s (%s); it stays in %s", uid,
                            error.__class__.__name__, self.mailbox)
                break
            if status == InboxStatus.FAILED:
                self._move(client, uid, self.failed)
            elif status == InboxStatus.DONE or stored.duplicate:
                self._move(client, uid, self.processed)
            handled += 1
        return handled

    def _move(self, client: IMAPClient, uid: int, folder: str) -> None:
        if client.has_capability("MOVE"):
            client.move([uid], folder)
        else:
            client.copy([uid], folder)
            client.delete_messages([uid])
            client.expunge()

    def run_forever(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                client = self.connect()
            except (OSError, IMAPClientError) as error:
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
                log.warning("imap: cannot connect to %s (%s); retrying in %ss", self.description,
                            error.__class__.__name__, delay)
                stop.wait(delay)
                continue
            failures = 0
            try:
                self._watch(client, stop)
            except (TimeoutError, OSError, IMAPClientError) as error:
                log.warning("imap: connection to %s dropped (%s); reconnecting", self.description,
                            error.__class__.__name__)
            finally:
                _logout(client)

    def _watch(self, client: IMAPClient, stop: threading.Event) -> None:
        idle = client.has_capability("IDLE")
        while not stop.is_set():
            self._drain(client)
            if not idle:
                stop.wait(self.poll_seconds)
                client.noop()
                continue
            client.idle()
            try:
                # Short waits so a stop request is noticed; the server's news ends the wait early.
                waited = 0
                while not stop.is_set() and waited < self.idle_seconds:
                    if client.idle_check(timeout=5):
                        break
                    waited += 5
            finally:
                client.idle_done()


def envelope_of(raw: bytes, mail_domain: str) -> Envelope:
    """An envelope for a message read from a mailbox: the recipients we serve, from its headers."""
    try:
        headers = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
        found = getaddresses([str(v) for name in RECIPIENT_HEADERS for v in headers.get_all(name, [])])
        # compat32 turns 8-bit header bytes into U+FFFD; the default policy reads an SMTPUTF8
        # Return-Path (ánä@pémasok.example) as the UTF-8 it is.
        utf8_headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
        return_path = str(utf8_headers.get("Return-Path", "") or "").strip()
    except Exception:  # noqa: BLE001 - headers too broken to read: processing decides what the message is
        return Envelope("", ())
    recipients = []
    for _name, address in found:
        if parse_recipient(address, mail_domain) is not None and address.lower() not in recipients:
            recipients.append(address.lower())
    # The delivering server's Return-Path is the envelope sender; "<>" is a null sender (a bounce).
    if return_path == "<>":
        sender = "<>"
    else:
        parsed = getaddresses([return_path]) if return_path else []
        sender = parsed[0][1] if parsed else ""
    return Envelope(sender, tuple(recipients))


def _logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection is already gone: nothing to close
        log.debug("imap: logout failed", exc_info=True)
