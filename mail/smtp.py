"""The inbound SMTP server (aiosmtpd). It does little on purpose: at RCPT it accepts only the
addresses tautan serves (no open relay); at DATA it stores the raw message and only then answers
250, or 451 when storing is not possible so the sender retries. Reading and acting on the message
happens afterwards, from the inbox."""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Session
from aiosmtpd.smtp import Envelope as SmtpEnvelope

from tautan.core.errors import TautanError
from tautan.core.inbox import Stored
from tautan.mail.inbound import Envelope, Inbound, Recipient, parse_recipient

log = logging.getLogger(__name__)
A = TypeVar("A")
R = TypeVar("R")

# Reply codes, in one place (RFC 5321, enhanced status codes from RFC 3463).
OK = "250 2.0.0 Message accepted"
RCPT_OK = "250 2.1.5 Recipient OK"
NO_SUCH_USER = "550 5.1.1 No such recipient here"
RELAY_DENIED = "550 5.7.1 Relaying denied"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
TRY_AGAIN_LATER = "451 4.3.0 Temporary failure, please try again later"
MESSAGE_TOO_BIG = "552 5.3.4 Message too big"
PIPELINING = "250-PIPELINING"

MAX_MESSAGE_SIZE = 10 * 1024 * 1024
MAX_RECIPIENTS = 20
# RFC 5321 allows 998 characters a line, but real clients send longer 8-bit HTML lines and
# Postfix accepts them; refusing would bounce a supplier's answer. Each line is held in memory
# once, so this bounds memory per connection, not the message size (that is ``max_size``).
LINE_LENGTH_LIMIT = 1024 * 1024
# How long DATA (and the token check at RCPT) waits for the database before answering 451, well
# within the minutes a sending server waits for a reply.
STORE_TIMEOUT = 5.0


class InboundHandler:
    """The aiosmtpd handler: check recipients, store messages, wake the processor."""

    def __init__(self, inbound: Inbound, *, mail_domain: str, max_recipients: int = MAX_RECIPIENTS,
                 on_stored: Callable[[int], None] | None = None, store_timeout: float = STORE_TIMEOUT) -> None:
        self.inbound = inbound
        self.mail_domain = mail_domain
        self.max_recipients = max_recipients
        self.on_stored = on_stored
        self.store_timeout = store_timeout
        self._group = _GroupCommit(inbound)
        self._lookups: _Batches[Recipient, bool] = _Batches(inbound.knows_many)

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: SmtpEnvelope, hostname: str,
                          responses: list[str]) -> list[str]:
        # aiosmtpd handles pipelined commands but does not say so; Postfix pipelines only when told.
        session.host_name = hostname
        return [*responses[:-1], PIPELINING, responses[-1]]

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: SmtpEnvelope, address: str,
                          rcpt_options: list[str]) -> str:
        recipient = parse_recipient(address, self.mail_domain)
        if recipient is None:
            domain = address.rpartition("@")[2].lower()
            return NO_SUCH_USER if domain == self.mail_domain.lower() else RELAY_DENIED
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return TOO_MANY_RECIPIENTS
        # When the database cannot say, the recipient is accepted: DATA then stores the message or
        # answers 451, and processing drops a token it does not know.
        try:
            # checked with the other sessions' recipients arriving now (one query), in bounded time
            known = await asyncio.wait_for(self._lookups.submit(recipient), self.store_timeout)
        except TimeoutError:
            known = True
        except TautanError:
            known = True
        except Exception:
            log.exception("smtp: unexpected error checking a recipient")
            known = True
        if not known:  # a well-formed token of no invitation: the sender's server returns a proper DSN
            return NO_SUCH_USER
        envelope.rcpt_tos.append(address)
        return RCPT_OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: SmtpEnvelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if server.data_size_limit is not None and len(raw) > server.data_size_limit:
            return MESSAGE_TOO_BIG
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        try:
            # Stored with the other messages arriving now (one commit), within a bounded time.
            stored = await asyncio.wait_for(
                self._group.store(raw, Envelope(envelope.mail_from or "", tuple(envelope.rcpt_tos)),
                                  source=f"smtp:{peer}"), timeout=self.store_timeout)
        except TimeoutError:  # the database is locked or slow: the sender retries (a duplicate is absorbed)
            log.warning("smtp: storing a message from %s took too long; asked the sender to retry", peer)
            return TRY_AGAIN_LATER
        except TautanError:
            log.warning("smtp: could not store a message from %s; asked the sender to retry", peer)
            return TRY_AGAIN_LATER
        except Exception:
            log.exception("smtp: unexpected error storing a message")
            return TRY_AGAIN_LATER
        if not stored.duplicate and self.on_stored is not None:
            self.on_stored(stored.id)
        return OK


class LongLineSMTP(SMTP):
    """aiosmtpd's server with a longer line limit (a class attribute, meant to be overridden)."""

    line_length_limit = LINE_LENGTH_LIMIT


class _Controller(Controller):
    def factory(self) -> SMTP:  # the supported way to use an SMTP subclass
        return LongLineSMTP(self.handler, **self.SMTP_kwargs)


class _Batches(Generic[A, R]):
    """Work that arrives while the previous batch is being done waits, and then goes in together:
    while one batch is at the database, the requests of the other sessions queue up behind it and
    are done with one call of ``work`` (one query, one commit), so many sessions cost one round
    trip, not one each. Each request hears its own result only once its batch is done; a failure
    is the answer of every request of that batch."""

    MAX_BATCH = 64

    def __init__(self, work: Callable[[list[A]], Sequence[R]]) -> None:
        self.work = work
        self.waiting: list[tuple[A, asyncio.Future[R]]] = []
        self.busy = False

    async def submit(self, item: A) -> R:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[R] = loop.create_future()
        self.waiting.append((item, done))
        if not self.busy:
            self.busy = True
            loop.create_task(self._drain())
        return await done

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.waiting:
                batch, self.waiting = self.waiting[:self.MAX_BATCH], self.waiting[self.MAX_BATCH:]
                try:
                    results = await loop.run_in_executor(None, self.work, [item for item, _ in batch])
                except Exception as error:  # noqa: BLE001 - handed to each waiting request, which answers for it
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(error)
                    continue
                for (_, done), result in zip(batch, results, strict=False):
                    if not done.done():
                        done.set_result(result)
        finally:
            self.busy = False


class _GroupCommit(_Batches[tuple[bytes, Envelope, str], Stored]):
    """Stores messages that arrive together in one transaction (group commit): while one store is
    committing, the messages of the other senders in DATA wait and then go in together, so many
    senders cost one commit, not one each. Every sender still hears 250 only after the commit
    that made its message durable, and a failure answers 451 to every message of that group."""

    def __init__(self, inbound: Inbound) -> None:
        super().__init__(inbound.receive_many)

    async def store(self, raw: bytes, envelope: Envelope, *, source: str) -> Stored:
        return await self.submit((raw, envelope, source))


def make_controller(handler: InboundHandler, *, host: str, port: int, tls: ssl.SSLContext | None = None,
                    max_size: int = MAX_MESSAGE_SIZE) -> Controller:
    """An aiosmtpd controller; with ``tls``, STARTTLS is offered."""
    return _Controller(handler, hostname=host, port=port, server_hostname=handler.mail_domain,
                       data_size_limit=max_size, tls_context=tls, require_starttls=False,
                       ident="tautan ESMTP")


class Processor:
    """Processes stored messages right after they arrive, and every few seconds picks up any that
    a crash or an outage left behind."""

    def __init__(self, inbound: Inbound, *, interval: float = 5.0) -> None:
        self.inbound = inbound
        self.interval = interval
        self.wake = threading.Event()
        self.stop = threading.Event()

    def notify(self, _inbox_id: int) -> None:
        self.wake.set()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                while self.inbound.process_pending() and not self.stop.is_set():
                    pass
            except TautanError as error:
                log.warning("inbox: %s; will try again", error.__class__.__name__)
            except Exception:
                log.exception("inbox: unexpected error; will try again")
            self.wake.wait(self.interval)
            self.wake.clear()
