"""Outbox throughput: how fast the worker delivers invitations to a local SMTP relay, against
plain ``smtplib`` sending the same messages over one connection, in the same run.

    python -m bench.outbox [--messages 500] [--url DATABASE_URL]

The worker does more than the baseline (claims rows with a lease, composes each message from
the templates in its language, records delivery), so the ratio says what that bookkeeping costs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import smtplib
import statistics
import time

from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench import common
from bench.common import Discard, free_port
from tautan.core import services
from tautan.core.model import Role
from tautan.core.outbox import claim
from tautan.mail.compose import DkimKey, compose
from tautan.mail.transport import SmtpTransport
from tautan.settings import Settings
from tautan.wiring import Container
from tautan.worker import Worker


def seed(container: Container, count: int) -> None:
    uow = container.uow
    services.create_company(uow(), name="PT Bench Pembeli", roles=[Role.CUSTOMER], actor="bench", via="cli")
    for i in range(count):
        services.invite(uow(), customer="PT Bench Pembeli", email=f"sales{i}@supplier{i}.co.id",
                        types=["order", "invoice"], lang="id" if i % 2 else "en",
                        message="Mohon bergabung 🙏", actor="bench", via="cli")


def reset_outbox(container: Container) -> None:
    with container.engine.begin() as connection:
        connection.execute(text("UPDATE outbox SET status = 'pending', attempts = 0, lease_until = NULL, "
                                "sent_at = NULL"))


def run(url: str, count: int, rounds: int) -> None:
    port = free_port()
    controller = Controller(Discard(), hostname="127.0.0.1", port=port)
    controller.start()
    clock_now = dt.datetime.now(dt.timezone.utc)
    container = Container(Settings(database_url=url, secret_keys=("bench",), mail_domain="bench.example.id"),
                          clock=lambda: clock_now)
    try:
        seed(container, count)
        worker = Worker.from_container(container, SmtpTransport(f"smtp://127.0.0.1:{port}"))
        # the baseline's messages: composed once, outside the timing
        items = claim(container.uow(), channel="email", limit=count)
        messages = [compose(item, worker.mail, now=clock_now) for item in items]
        payloads = [(m.envelope_from, list(m.recipients), m.as_bytes()) for m in messages]

        signing = Worker.from_container(container, SmtpTransport(f"smtp://127.0.0.1:{port}"))
        signing.mail = dataclasses.replace(worker.mail, dkim=DkimKey("bench", "bench.example.id", _private_key()))
        ours, baseline, composing, signed = [], [], [], []
        for _ in range(rounds):
            start = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", port) as client:
                for sender, recipients, data in payloads:
                    client.sendmail(sender, recipients, data)
            baseline.append(time.perf_counter() - start)

            start = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", port) as client:
                for item in items:
                    outgoing = compose(item, worker.mail, now=clock_now)
                    client.sendmail(outgoing.envelope_from, list(outgoing.recipients), outgoing.as_bytes())
            composing.append(time.perf_counter() - start)

            reset_outbox(container)
            start = time.perf_counter()
            report = worker.run_once()
            ours.append(time.perf_counter() - start)
            assert report.sent == count, report

            reset_outbox(container)
            start = time.perf_counter()
            report = signing.run_once()
            signed.append(time.perf_counter() - start)
            assert report.sent == count, report
    finally:
        controller.stop()
        container.close()

    base, composed, mine, dkim = (statistics.median(x) for x in (baseline, composing, ours, signed))
    backend = make_url(url).get_backend_name()
    print(f"outbox throughput, {count} invitations, {backend}, median of {rounds} rounds")
    print(f"  plain smtplib, pre-composed        : {count / base:8.0f} msg/s  ({base * 1000:.0f} ms)")
    print(f"  smtplib + composing each message   : {count / composed:8.0f} msg/s  ({composed * 1000:.0f} ms)")
    print(f"  tautan worker (outbox, leases, db) : {count / mine:8.0f} msg/s  ({mine * 1000:.0f} ms)")
    print(f"  ratio worker / plain smtplib       : {base / mine:8.2f}  (1.00 = as fast as bare smtplib)")
    print(f"  ratio worker / smtplib + composing : {composed / mine:8.2f}  (the cost of the outbox itself)")
    print(f"  tautan worker, DKIM-signed (RSA 2048): {count / dkim:5.0f} msg/s  ({dkim * 1000:.0f} ms)")
    print(f"  ratio signing worker / plain smtplib : {base / dkim:6.2f}")


def _private_key() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def main(argv: list[str] | None = None) -> None:
    common.main(__doc__ or "", run, argv)


if __name__ == "__main__":
    main()
