"""The worker: expires what is due, queues reminders, and delivers the outbox with retries.

Several workers may run at once on PostgreSQL: outbox rows are claimed with
``FOR UPDATE SKIP LOCKED`` and a lease, so each message goes to one worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tautan.core import outbox, services
from tautan.core.errors import TautanError
from tautan.core.lease import Heartbeat
from tautan.mail.compose import INVITATION_KINDS, MailConfig, compose, warm_up
from tautan.mail.transport import Connection, DeliveryError, RelayUnavailable, Transport, transport_from_url
from tautan.wiring import Container

if TYPE_CHECKING:
    from tautan.bot.notify import SlackNotifier

log = logging.getLogger(__name__)

# Expiring invitations, reminders (due by the day) and giving up on stale channel notices: in a
# running worker once a minute is prompt enough; only delivery is polled every round.
MAINTENANCE_EVERY = 60.0  # seconds


@dataclass
class Report:
    expired: int = 0
    reminded: int = 0
    received: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    # Slack channel notices (bot.notify), counted apart from email.
    notified: int = 0
    notify_retrying: int = 0
    notify_failed: int = 0

    def __bool__(self) -> bool:
        return any(vars(self).values())


@dataclass
class Worker:
    container: Container
    transport: Transport
    mail: MailConfig
    batch: int = 100  # per claim and per relay connection; marked sent together
    stop: threading.Event = field(default_factory=threading.Event)
    timer: Callable[[], float] = time.monotonic  # when maintenance is due (a test may step it)
    _notifier: SlackNotifier | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_container(cls, container: Container, transport: Transport | None = None) -> Worker:
        settings = container.settings
        return cls(container=container,
                   transport=transport or transport_from_url(settings.smtp_relay_url, maildir=settings.maildir),
                   mail=container.mail_config())

    def run_once(self, *, maintenance: bool = True) -> Report:
        """One round: expire and remind (unless ``maintenance`` is False), then deliver until
        nothing is due."""
        report = Report()
        # Inbound mail left unprocessed by a crash or an outage, first: its answers go out below.
        inbound = self.container.inbound()
        while not self.stop.is_set() and (count := inbound.process_pending()):
            report.received += count
        if maintenance:
            report.expired = len(services.expire(self.container.uow()))
            report.reminded = len(services.remind(self.container.uow()))
            report.reminded += len(services.remind_waiting_requests(self.container.uow()))
        while not self.stop.is_set() and self.deliver(report):
            pass
        if maintenance:
            report.notify_failed += outbox.expire_stale(self.container.uow(), channel="slack")
        notifier = self.slack_notifier()
        while notifier is not None and not self.stop.is_set():
            notices = notifier.deliver()
            report.notified += notices.sent
            report.notify_retrying += notices.retrying
            report.notify_failed += notices.failed
            if not notices.claimed:
                break
        return report

    def slack_notifier(self) -> SlackNotifier | None:
        """Channel notices go out when Slack is configured (built once, on first use)."""
        if self._notifier is None and self.container.slack_app is not None:
            self._notifier = self.container.slack_notifier()
        return self._notifier

    def deliver(self, report: Report) -> int:
        """Deliver one batch of due email; returns how many rows were claimed. What went out is
        marked sent together at the end of the batch (also when the relay goes away midway)."""
        items = outbox.claim(self.container.uow(), channel="email", limit=self.batch)
        if not items:
            return 0
        waiting = list(items)
        renew = lambda ids: outbox.renew(self.container.uow(), ids=ids)  # noqa: E731
        sent: list[outbox.OutboxItem] = []
        try:
            # The heartbeat keeps the short leases alive while this worker sends; if it dies, another
            # worker takes the rows over within seconds (same Message-ID: at least once, never lost).
            with Heartbeat(renew, [item.id for item in items]), self.transport.connect() as connection:
                while waiting:
                    if self._send(connection, waiting[0], report):
                        sent.append(waiting[0])
                    waiting.pop(0)
        except RelayUnavailable as error:  # the relay is away: what was not sent waits for the next try
            log.warning("outbox: %s: %s", self.transport.description, error.reason)
            for item in waiting:
                self._failed(item.id, error.reason, permanent=False, report=report)
        finally:
            self._delivered(sent, report)
        return len(items)

    def _send(self, connection: Connection, item: outbox.OutboxItem, report: Report) -> bool:
        """Send one message; False when it failed (and the failure is recorded)."""
        try:
            outgoing = compose(item, self.mail, now=self.container.clock())
            data = outgoing.as_bytes(self.mail.dkim)
        except Exception as error:  # a bug in composing one message must not stop the others
            # Composing the same row again gives the same error: permanent, kept with the row
            # (and recorded on its invitation), never retried for five days.
            log.exception("outbox %s: could not compose %s", item.id, item.kind)
            self._failed(item.id, f"compose: {error.__class__.__name__}: {error}", permanent=True, report=report)
            return False
        try:
            connection.send(data, outgoing.envelope_from, outgoing.recipients)
        except RelayUnavailable:
            raise
        except DeliveryError as error:
            self._failed(item.id, error.reason, permanent=error.permanent, report=report)
            return False
        return True

    def _delivered(self, sent: list[outbox.OutboxItem], report: Report) -> None:
        if not sent:
            return
        invitation_ids = [item.invitation.id for item in sent
                          if item.invitation is not None and item.kind in INVITATION_KINDS]
        try:
            outbox.delivered_many(self.container.uow(), outbox_ids=[item.id for item in sent],
                                  invitation_ids=invitation_ids)
        except TautanError:  # the database went away: the lease brings the rows back, sent again
            log.warning("outbox: could not record %d sent messages; they will be sent again", len(sent))
            return
        report.sent += len(sent)

    def _failed(self, outbox_id: int, reason: str, *, permanent: bool, report: Report) -> None:
        gave_up = outbox.record_failure(self.container.uow(), outbox_id=outbox_id, error=reason,
                                        permanent=permanent)
        if gave_up is not None:
            report.failed += gave_up
            report.retrying += not gave_up

    def warm_up(self) -> None:
        """Load the catalogs and compile the templates at start-up (one sample of each email in each
        language, thrown away), so the first batch costs what every later one does."""
        try:
            warm_up(self.mail, now=self.container.clock())
        except Exception:  # a broken template shows in the first real message too, recorded there
            log.exception("worker: could not compose the sample messages at start-up")

    def run_forever(self, interval: float = 5.0) -> None:
        """Deliver every ``interval`` seconds, and do the maintenance once a minute, until stopped."""
        log.info("worker: delivering through %s", self.transport.description)
        self.warm_up()
        maintenance_due = self.timer()
        while not self.stop.is_set():
            try:
                maintenance = self.timer() >= maintenance_due
                report = self.run_once(maintenance=maintenance)
                if maintenance:  # done: not again for a minute (after an error, in the next round)
                    maintenance_due = self.timer() + MAINTENANCE_EVERY
                if report:
                    log.info("worker: %s", report)
            except TautanError as error:  # the database is away: wait and try again
                log.warning("worker: %s", error.__class__.__name__)
            except Exception:
                log.exception("worker: unexpected error; continuing")
            self.stop.wait(interval)
