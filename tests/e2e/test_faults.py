"""Fault injection: real ``tautan smtp`` and ``tautan worker`` processes on a throw-away PostgreSQL
database, killed with SIGKILL in the middle of a burst and started again. Counting rows and the
Message-IDs the relay sink received, every acknowledged reply is acted on exactly once and every
invitation and confirmation is sent at least once; duplicates (allowed: at least once) are printed,
and so is how late the takeover of a killed process's rows was."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import smtplib
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tautan.core import services
from tautan.core.lease import LEASE
from tautan.core.model import Event, Inbox, Outbox, Role
from tautan.core.uow import UnitOfWork
from tautan.db import make_engine, make_session_factory, upgrade
from tests.support import MAIL_KEYS, SinkHandler, free_port
from tests.support.smtp import running_sink

DOMAIN = "connect.example.id"
INVITATIONS = 40
BOUND = 120.0  # seconds: the whole run stops by then, pass or fail


class SlowSink(SinkHandler):
    """A relay that takes a little while per message, so a worker can be killed mid-batch."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def database(postgres_server: str) -> Iterator[str]:
    name = f"tautan_faults_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Processes:
    def __init__(self, database: str, relay_port: int, smtp_port: int, tmp: Path) -> None:
        self.env = {**os.environ, "DATABASE_URL": database, "SMTP_RELAY_URL": f"smtp://127.0.0.1:{relay_port}",
                    "MAIL_DOMAIN": DOMAIN, "MAIL_FROM": f"undangan@{DOMAIN}", "SECRET_KEY": ",".join(MAIL_KEYS),
                    "PUBLIC_BASE_URL": "https://tautan.example.id", "SLACK_BOT_TOKEN": "", "SLACK_CLIENT_ID": ""}
        self.smtp_port = smtp_port
        self.tmp = tmp
        self.started: list[subprocess.Popen[bytes]] = []
        self.tautan = str(Path(sys.executable).parent / "tautan")

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{args[0]}-{len(self.started)}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen([self.tautan, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.started.append(process)
        return process

    def smtp(self) -> subprocess.Popen[bytes]:
        process = self.start("smtp", "--listen", f"127.0.0.1:{self.smtp_port}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # ready when it answers
            try:
                with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=2) as client:
                    client.noop()
                return process
            except OSError:
                time.sleep(0.1)
        raise AssertionError("tautan smtp did not start")

    def worker(self) -> subprocess.Popen[bytes]:
        return self.start("worker", "--interval", "0.5")

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.wait(10)


def reply(token: str, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = f"connect+{token}@{DOMAIN}"
    message["Subject"] = "Re: undangan"
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    message.set_content("Setuju.\n\nSalam")
    return message


def sent_ids(sink: SinkHandler) -> set[int]:
    """The outbox rows the relay received: tautan's Message-IDs are <tautan.ROW.TIME@domain>."""
    return {int(str(message["Message-ID"]).split(".")[1]) for message in sink.messages()}


def deliver(port: int, message: EmailMessage, deadline: float) -> None:
    """Like a sending MTA: retry until the server answers 250 (a killed server is restarted)."""
    while time.monotonic() < deadline:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.sendmail(str(message["From"]), [str(message["To"])], message.as_bytes())
            return
        except (OSError, smtplib.SMTPException):
            time.sleep(0.2)
    raise AssertionError("a reply was never acknowledged")


def test_kill_minus_nine_mid_burst_loses_nothing(database: str, tmp_path: Path) -> None:
    deadline = time.monotonic() + BOUND
    engine = make_engine(database)
    uow = UnitOfWork(make_session_factory(engine), clock=lambda: dt.datetime.now(dt.timezone.utc))
    services.create_company(uow, name="PT Pelanggan Jaya", roles=[Role.CUSTOMER], actor="cli:test", via="cli")
    invited = [services.invite(uow, customer="PT Pelanggan Jaya", email=f"ana{i}@pt-maju{i}.co.id",
                               types=["invoice"], actor="cli:test", via="cli", lang="id")
               for i in range(INVITATIONS)]
    smtp_port = free_port()
    with running_sink() as (_, relay_port):
        pass  # a free port for the slow sink below
    sink = SlowSink()
    from aiosmtpd.controller import Controller

    relay = Controller(sink, hostname="127.0.0.1", port=relay_port)
    relay.start()
    processes = Processes(database, relay_port, smtp_port, tmp_path)
    takeovers: list[float] = []
    try:
        smtp = processes.smtp()
        worker = processes.worker()
        # The worker sends invitations; kill it after a few, mid-batch (it holds the rest's leases).
        while len(sink.received) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        killed_worker_at = time.monotonic()
        processes.worker()
        # Replies arrive; the SMTP server is killed half-way through the burst, then restarted.
        for i, invitation in enumerate(invited):
            if i == INVITATIONS // 2:
                smtp.send_signal(signal.SIGKILL)
                smtp.wait(10)
                smtp = processes.smtp()
            deliver(smtp_port, reply(invitation.reply_token, invitation.email), deadline)
        # Everything settles: all replies processed, all invitations and confirmations sent.
        expected = 2 * INVITATIONS
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                pending = connection.scalar(select(func.count()).select_from(Outbox).where(
                    Outbox.channel == "email", Outbox.status != "sent"))
                unprocessed = connection.scalar(select(func.count()).select_from(Inbox).where(Inbox.status != "done"))
                outbox_rows = connection.scalar(select(func.count()).select_from(Outbox).where(
                    Outbox.channel == "email"))
            if not takeovers and len(sent_ids(sink) & set(range(1, INVITATIONS + 1))) == INVITATIONS:
                takeovers.append(time.monotonic() - killed_worker_at)  # the last stranded invitation is out
            if outbox_rows == expected and pending == 0 and unprocessed == 0:
                break
            time.sleep(0.2)
        if not takeovers:
            takeovers.append(time.monotonic() - killed_worker_at)
    finally:
        processes.stop_all()
        relay.stop()

    with engine.connect() as connection:
        inbox_ids = Counter(connection.scalars(select(Inbox.message_id)))
        accepted = Counter(connection.scalars(select(Event.invitation_id).where(Event.kind == "accepted")))
        outbox_ids = {row.id: row for row in connection.execute(select(Outbox.id, Outbox.kind, Outbox.status)
                                                                .where(Outbox.channel == "email"))}
    engine.dispose()
    received = Counter(str(message["Message-ID"]) for message in sink.messages())
    duplicates = sum(count - 1 for count in received.values())
    print(f"\nfault injection: {INVITATIONS} invitations, {INVITATIONS} replies, {len(outbox_ids)} emails queued, "
          f"{sum(received.values())} received by the relay, {duplicates} duplicates, "
          f"worker takeover after {takeovers[0]:.1f} s (lease {LEASE.total_seconds():.0f} s)")
    assert len(inbox_ids) == INVITATIONS and set(inbox_ids.values()) == {1}  # each reply stored once
    assert len(accepted) == INVITATIONS and set(accepted.values()) == {1}  # and acted on once
    assert {row.status for row in outbox_ids.values()} == {"sent"}
    assert Counter(row.kind for row in outbox_ids.values()) == {"invitation": INVITATIONS, "accepted": INVITATIONS}
    assert set(outbox_ids) <= sent_ids(sink)  # every email reached the relay at least once
