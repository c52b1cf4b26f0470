"""Scale-out, shown by CPU rather than wall time: on a machine with two cores more processes
cannot add throughput, but they must not add cost either. For 1, 2 and 4 worker processes
delivering the same outbox, and 1 and 2 SMTP processes receiving the same mail, this prints the
CPU time (user + system, of all those processes, from /proc) per 1,000 messages, duplicates and
losses, and how often a backend waited on a lock (sampled from ``pg_stat_activity``).

    python -m bench.scale --url POSTGRESQL_SERVER_URL [--messages 2000]

The ratios compare each run with the one-process run measured just before it. CPU is counted
from the moment the processes are started up and idle to the moment the last message is done;
the per-message figure leaves out what idle processes spend polling for work (measured for ten
seconds before each run, times the run's duration), which is printed too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

from bench.common import database, free_port
from bench.inbound import DOMAIN, replies
from tautan.core import services
from tautan.core.model import Role
from tautan.core.services import InviteRow
from tautan.settings import Settings
from tautan.wiring import Container

TICKS = os.sysconf("SC_CLK_TCK")


class Recorder:
    """The relay: keeps the Message-ID of every message it is given."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
        for line in envelope.content.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                self.ids.append(line.split(b":", 1)[1].strip().decode())
                break
        return "250 OK"


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class LockSampler:
    """Samples, every 50 ms, how many backends of the database wait on a lock."""

    url: str
    samples: int = 0
    waiting: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        engine = create_engine(self.url)
        with engine.connect() as connection:
            while not self.stop.is_set():
                self.waiting += connection.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")).scalar() or 0
                self.samples += 1
                connection.commit()
                self.stop.wait(0.05)
        engine.dispose()


@dataclass
class Result:
    processes: int
    cpu: float
    idle: float  # of ``cpu``: what the processes spend polling when idle, for as long as the run took
    seconds: float
    count: int
    duplicates: int
    lost: int
    lock_waits: int
    samples: int

    @property
    def per_thousand(self) -> float:
        return (self.cpu - self.idle) / self.count * 1000

    @property
    def raw_per_thousand(self) -> float:
        return self.cpu / self.count * 1000


def processes(command: list[str] | Callable[[int], list[str]], count: int,
              env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen(command(i) if callable(command) else command, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL) for i in range(count)]


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(10)


def wait_for(condition: Callable[[], bool], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the processes did not finish in time")
        time.sleep(0.1)


def measure(url: str, procs: list[subprocess.Popen[bytes]], work: Callable[[], None],
            done: Callable[[], bool]) -> tuple[float, float, float, LockSampler]:
    before, idle = settled(procs)  # started up and idle: their start-up is not the messages' cost
    sampler = LockSampler(url)
    thread = threading.Thread(target=sampler.run)
    thread.start()
    start = time.perf_counter()
    work()
    wait_for(done)
    seconds = time.perf_counter() - start
    cpu = sum(cpu_seconds(p.pid) for p in procs) - before
    sampler.stop.set()
    thread.join()
    return cpu, idle * seconds, seconds, sampler


def settled(procs: list[subprocess.Popen[bytes]], timeout: float = 120) -> tuple[float, float]:
    """Wait until the processes are idle (under 20 ms of CPU each in a second), then watch them
    idle for 10 seconds: (their CPU then, their idle CPU per second: polling for work)."""
    deadline = time.monotonic() + timeout
    last = sum(cpu_seconds(p.pid) for p in procs)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = sum(cpu_seconds(p.pid) for p in procs)
        if now - last < 0.02 * len(procs):
            time.sleep(10)
            idle = sum(cpu_seconds(p.pid) for p in procs)
            return idle, (idle - now) / 10
        last = now
    raise TimeoutError("the processes did not settle")


def environment(url: str, relay_port: int) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "SMTP_RELAY_URL": f"smtp://127.0.0.1:{relay_port}",
            "SECRET_KEY": "bench", "MAIL_DOMAIN": DOMAIN}


def tautan() -> str:
    return shutil.which("tautan", path=str(Path(sys.executable).parent)) or "tautan"


def workers(server_url: str, count: int, messages: int) -> Result:
    with database(server_url) as url:
        recorder = Recorder()
        relay = Controller(recorder, hostname="127.0.0.1", port=free_port())
        relay.start()
        container = Container(Settings(database_url=url, secret_keys=("bench",), mail_domain=DOMAIN))
        services.create_company(container.uow(), name="PT Bench", roles=[Role.CUSTOMER], actor="bench", via="cli")
        procs = processes([tautan(), "worker", "--interval", "5"], count, environment(url, relay.port))
        rows = [InviteRow(email=f"sales{i}@supplier{i}.co.id", types="invoice") for i in range(messages)]

        def sent() -> bool:
            with container.engine.connect() as connection:
                sent = connection.execute(text("SELECT count(*) FROM outbox WHERE status = 'sent'")).scalar()
                return sent == messages

        try:
            cpu, idle, seconds, sampler = measure(url, procs, lambda: services.invite_many(
                container.uow(), customer="PT Bench", rows=rows, actor="bench", via="cli"), sent)
        finally:
            stop(procs)
            relay.stop()
            container.close()
        unique = set(recorder.ids)
        return Result(count, cpu, idle, seconds, messages, len(recorder.ids) - len(unique), messages - len(unique),
                      sampler.waiting, sampler.samples)


def smtp_servers(server_url: str, count: int, messages: int) -> Result:
    with database(server_url) as url:
        ports = [free_port() for _ in range(count)]
        env = environment(url, free_port())
        procs = processes(lambda i: [tautan(), "smtp", "--listen", f"127.0.0.1:{ports[i]}"], count, env)
        engine = create_engine(url)
        for port in ports:
            wait_for(lambda: _listening(port), timeout=60)
        mails = replies([uuid.uuid4().hex for _ in range(messages)])

        def send() -> None:
            def one(sender: int) -> None:
                with smtplib.SMTP("127.0.0.1", ports[sender % count]) as client:
                    for raw in mails[sender::8]:
                        client.sendmail("sales@supplier.co.id", [f"connect+{uuid.uuid4().hex}@{DOMAIN}"], raw)
            threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        def processed() -> bool:
            with engine.connect() as connection:
                return connection.execute(text("SELECT count(*) FROM inbox WHERE status = 'done'")).scalar() >= messages

        try:
            cpu, idle, seconds, sampler = measure(url, procs, send, processed)
            with engine.connect() as connection:
                rows, distinct = connection.execute(text(
                    "SELECT count(*), count(DISTINCT message_id) FROM inbox")).one()
        finally:
            stop(procs)
            engine.dispose()
        return Result(count, cpu, idle, seconds, messages, rows - distinct, messages - distinct, sampler.waiting,
                      sampler.samples)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def report(title: str, results: list[Result]) -> None:
    print(title)
    first = results[0]
    for r in results:
        print(f"  {r.processes} process(es): {r.per_thousand:6.2f} CPU s per 1,000 messages "
              f"(ratio to 1 process {r.per_thousand / first.per_thousand:4.2f}; with idle polling "
              f"{r.raw_per_thousand:6.2f}, ratio {r.raw_per_thousand / first.raw_per_thousand:4.2f}), "
              f"{r.count / r.seconds:5.0f} msg/s, "
              f"{r.duplicates} duplicates, {r.lost} lost, lock waits {r.lock_waits} in {r.samples} samples")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", required=True, help="a PostgreSQL server URL (a throw-away database per run)")
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args(argv)
    report(f"outbox workers, {args.messages} invitations each run, postgresql",
           [workers(args.url, n, args.messages) for n in (1, 2, 4)])
    report(f"SMTP servers, {args.messages} messages from 8 senders each run, postgresql",
           [smtp_servers(args.url, n, args.messages) for n in (1, 2)])


if __name__ == "__main__":
    main()
