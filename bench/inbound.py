"""Inbound mail speed, each against a baseline measured in the same run:

1. messages accepted per second by tautan's SMTP server (check the recipient, store the raw
   message, answer 250) against a bare aiosmtpd handler that accepts and discards, same client
   (one sender, then eight at once: their messages share commits); beside it, two references:
   the bare handler with one synced commit a message, and tautan's handler over storage that
   costs nothing (what its own work leaves for the database);
2. replies processed end to end per second (read, trim, classify, accept the invitation, queue
   the confirmation, record the outcome) against only parsing them with the stdlib.

Every figure is the median of ``--rounds`` rounds; the messages answer real invitations.

    python -m bench.inbound [--messages 500] [--url POSTGRESQL_SERVER_URL]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import smtplib
import statistics
import threading
import time
import uuid
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from bench import common
from bench.common import Discard, free_port
from tautan.core import services
from tautan.core.inbox import Stored
from tautan.core.model import Role
from tautan.core.views import InvitationView
from tautan.mail.inbound import Envelope
from tautan.mail.smtp import InboundHandler, make_controller
from tautan.settings import Settings
from tautan.wiring import Container

DOMAIN = "bench.example.id"
SENDERS = 8  # the second measurement: this many sending servers at once, where group commit helps




def replies(tokens: list[str], *, domain: str = "supplier") -> list[bytes]:
    """A reply to each token, from sales{i}@{domain}{i}.co.id (the address ``invite_many`` invites)."""
    bodies = ["Setuju.\n\nSalam,\nBudi\n\nPada 2 Mar 2026 09.30, tautan <tautan@bench.example.id> menulis:\n> Undangan",
              "Yes, we accept.\n\nBest regards,\nAna\n\nOn Mon, Mar 2, 2026 at 9:30 AM tautan wrote:\n> invitation",
              "Ya setuju 👍\n\nDikirim dari iPhone saya"]
    out = []
    for i, token in enumerate(tokens):
        message = EmailMessage()
        message["From"] = f"Sales <sales{i}@{domain}{i}.co.id>"
        message["To"] = f"connect+{token}@{DOMAIN}"
        message["Subject"] = "Re: PT Bench mengundang Anda untuk terhubung di tautan"
        message["Message-ID"] = f"<{uuid.uuid4().hex}@{domain}{i}.co.id>"
        message.set_content(bodies[i % len(bodies)])
        message.add_alternative(f"<p>{bodies[i % len(bodies)].splitlines()[0]}</p>", subtype="html")
        out.append(message.as_bytes())
    return out


def invite_many(container: Container, count: int, *, domain: str) -> list[InvitationView]:
    """``count`` invitations of PT Bench, one supplier each (made in bulk: not what is measured),
    to sales{i}@{domain}{i}.co.id (the sender ``replies`` writes from)."""
    rows = [services.InviteRow(email=f"sales{i}@{domain}{i}.co.id", types=["invoice"]) for i in range(count)]
    done = services.invite_many(container.uow(), customer="PT Bench", rows=rows, actor="bench", via="cli")
    return [services.get_invitation(container.uow(), invitation_id=d.invitation_id) for d in done
            if d.invitation_id is not None]


def send_all(port: int, messages: list[bytes], recipients: list[str], senders: int = 1) -> float:
    """Send every message, over ``senders`` connections at once (as several sending servers do)."""
    def one(share: list[tuple[bytes, str]]) -> None:
        with smtplib.SMTP("127.0.0.1", port) as client:
            for raw, rcpt in share:
                client.sendmail("sales@supplier.co.id", [rcpt], raw)

    pairs = list(zip(messages, recipients, strict=False))
    threads = [threading.Thread(target=one, args=(pairs[i::senders],)) for i in range(senders)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


class DurableDiscard:
    """The second baseline: a handler that does only what answering 250 honestly needs, one
    commit of the raw bytes per message to the same database through a bare driver connection
    (no duplicate check, no recipient check, no group commit), so the ratio shows what a durable
    write costs on this machine's disk, apart from what tautan adds to it."""

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect.name
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE IF NOT EXISTS bench_durable (raw BYTEA)" if self.dialect ==
                                    "postgresql" else "CREATE TABLE IF NOT EXISTS bench_durable (raw BLOB)"))
        self.connection = engine.raw_connection()
        self.lock = threading.Lock()
        self.insert = f"INSERT INTO bench_durable (raw) VALUES ({'%s' if self.dialect == 'postgresql' else '?'})"

    def _commit(self, raw: bytes) -> None:
        with self.lock:
            cursor = self.connection.cursor()
            cursor.execute(self.insert, (raw,))
            cursor.close()
            self.connection.commit()

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
        await asyncio.get_running_loop().run_in_executor(None, self._commit, envelope.original_content)
        return "250 OK"

    def close(self) -> None:
        self.connection.close()


class FreeStorage:
    """The third reference: tautan's SMTP handler as it is, over an inbox whose recipient check
    and storing cost nothing (every recipient known, every message "stored" at once, nothing
    kept), so the ratio shows what the handler's own work (recipient parsing, hand-offs to the
    database thread, the duplicate key) leaves for the database on this machine."""

    def knows_many(self, recipients: list[object]) -> list[bool]:
        return [True] * len(recipients)

    def receive_many(self, messages: list[object]) -> list[Stored]:
        return [Stored(id=1, duplicate=False) for _ in messages]


def run(url: str, count: int, rounds: int) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    container = Container(Settings(database_url=url, secret_keys=("bench",), mail_domain=DOMAIN),
                          clock=lambda: now)
    services.create_company(container.uow(), name="PT Bench", roles=[Role.CUSTOMER], actor="bench", via="cli")
    backend = make_url(url).get_backend_name()

    # 1. SMTP acceptance
    bare_port, ours_port, durable_port, free_storage_port = free_port(), free_port(), free_port(), free_port()
    bare = Controller(Discard(), hostname="127.0.0.1", port=bare_port)
    free_storage = make_controller(InboundHandler(FreeStorage(), mail_domain=DOMAIN),  # type: ignore[arg-type]
                                   host="127.0.0.1", port=free_storage_port)
    durable_handler = DurableDiscard(container.engine)
    durable = Controller(durable_handler, hostname="127.0.0.1", port=durable_port)
    inbound = container.inbound()
    ours = make_controller(InboundHandler(inbound, mail_domain=DOMAIN), host="127.0.0.1", port=ours_port)
    bare.start()
    ours.start()
    durable.start()
    free_storage.start()
    times: dict[int, tuple[list[float], list[float], list[float], list[float]]] = {
        1: ([], [], [], []), SENDERS: ([], [], [], [])}
    # The server refuses mail to a reply token of no invitation (at RCPT), so the messages answer
    # real invitations; each round sends new messages (new Message-IDs) to the same ones.
    tokens = [v.reply_token for v in invite_many(container, count, domain="smtp")]
    try:
        for _ in range(rounds):
            for senders, (bare_times, our_times, durable_times, free_times) in times.items():
                messages = replies(tokens)
                recipients = [f"connect+{t}@{DOMAIN}" for t in tokens]
                bare_times.append(send_all(bare_port, messages, recipients, senders))
                durable_times.append(send_all(durable_port, messages, recipients, senders))
                free_times.append(send_all(free_storage_port, messages, recipients, senders))
                our_times.append(send_all(ours_port, messages, recipients, senders))
    finally:
        bare.stop()
        ours.stop()
        durable.stop()
        free_storage.stop()
        durable_handler.close()
    print(f"inbound SMTP, {count} messages per round, {backend}, median of {rounds} rounds")
    for senders, (bare_times, our_times, durable_times, free_times) in times.items():
        b, o, d, z = (statistics.median(x) for x in (bare_times, our_times, durable_times, free_times))
        print(f"  {senders} sender(s) at once:")
        print(f"    bare aiosmtpd (accept, discard)  : {count / b:8.0f} msg/s")
        print(f"    bare + one durable commit each   : {count / d:8.0f} msg/s  (a driver INSERT and COMMIT, nothing else)")
        print(f"    tautan handler, storage free     : {count / z:8.0f} msg/s  (its own work, no database)")
        print(f"    tautan smtp (check, store, 250)  : {count / o:8.0f} msg/s")
        print(f"    ratio tautan / bare              : {b / o:8.2f}  (1.00 = as fast as a handler that stores nothing)")
        print(f"    ratio durable-only / bare        : {b / d:8.2f}  (what one synced commit a message allows here)")
        print(f"    ratio handler, storage free / bare: {b / z:7.2f}  (the most tautan's handler can reach here)")
        print(f"    ratio tautan / durable-only      : {d / o:8.2f}  (above 1.00: group commit does better than it)")

    # 2. processing end to end (each round: new invitations, their replies parsed, then processed)
    with container.engine.begin() as connection:
        connection.execute(text("UPDATE inbox SET status = 'done'"))
    parse_times, process_times = [], []
    for round_ in range(rounds):
        domain = f"r{round_}-supplier"
        invitations = invite_many(container, count, domain=domain)
        messages = replies([v.reply_token for v in invitations], domain=domain)
        start = time.perf_counter()
        for raw in messages:
            parsed = email.message_from_bytes(raw, policy=policy.default)
            parsed.get_body(("plain", "html")).get_content()
        parse_times.append(time.perf_counter() - start)
        for raw, invitation in zip(messages, invitations, strict=False):
            inbound.receive(raw, Envelope("sales@supplier.co.id", (f"connect+{invitation.reply_token}@{DOMAIN}",)),
                            source="bench")
        start = time.perf_counter()
        processed = 0
        while (n := inbound.process_pending(limit=100)):
            processed += n
        process_times.append(time.perf_counter() - start)
        assert processed == count, processed
        accepted = sum(services.get_invitation(container.uow(), invitation_id=v.id).status == "accepted"
                       for v in invitations[:20])
        assert accepted == 20, accepted
    parse_only, end_to_end = statistics.median(parse_times), statistics.median(process_times)
    print(f"replies processed end to end, {count} replies, {backend}, median of {rounds} rounds")
    print(f"  stdlib parse only                : {count / parse_only:8.0f} msg/s")
    print(f"  tautan process_message           : {count / end_to_end:8.0f} msg/s")
    print(f"  ratio tautan / parse only        : {parse_only / end_to_end:8.2f}")
    container.close()


def main(argv: list[str] | None = None) -> None:
    common.main(__doc__ or "", run, argv)


if __name__ == "__main__":
    main()
