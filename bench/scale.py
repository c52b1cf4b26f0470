"""Scale-out, shown by CPU rather than wall time: on a machine with two cores more processes
cannot add throughput, but they must not add cost either. For 1, 2 and 4 worker processes
delivering the same outbox, and 1 and 2 SMTP processes receiving (and processing) the same
replies, this prints the CPU time (user + system, of all those processes, from /proc) per 1,000
messages, duplicates and losses, and what the database backends waited on (sampled from
``pg_stat_activity`` every 50 ms: lock waits, and the other wait events for context).

    python -m bench.scale --url POSTGRESQL_SERVER_URL [--messages 2000] [--rounds 3] [--pace N]

CPU is counted from the moment every process is started up and idle (its imports, engine and
schema check are behind it: a one-off cost of a long-running process) to the moment the last
message is done, everything the processes spend in between included: their idle polling too.
What an idle process spends per second is measured before each run and printed apart, for
reference, never subtracted. The configurations are run in turn, ``--rounds`` times (1, 2, 4,
1, 2, 4, ...), and the medians are printed: the machine may be shared, and its load drifts.

By default the messages come all at once (the invitations in two commits, the replies as fast as
eight senders can send), so every configuration runs the two cores flat out, and with more
processes than cores each also pays for sharing them (preempted mid-work, caches refilled): CPU
time per instruction goes up without the product doing more. ``--pace N`` offers N messages a
second instead, the same for every configuration and below what the machine can do: what more
processes then cost (polling, smaller batches and commit groups, rows claimed by others) is the
design's own. For scale, each run is followed by a fixed piece of pure Python work in as many
processes at once: how much more CPU the same work takes when that many processes share this
machine, with no database and no product code involved.
"""

from __future__ import annotations

import argparse
import os
import shutil
import smtplib
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import Engine, create_engine, text

from bench.common import database, free_port
from bench.inbound import DOMAIN, replies
from tautan.core import services
from tautan.core.model import Role
from tautan.core.services import InviteRow
from tautan.settings import Settings
from tautan.wiring import Container

TICKS = os.sysconf("SC_CLK_TCK")
SENDERS = 8  # sending servers at once, spread over the SMTP processes
IDLE_WINDOW = 10.0  # seconds an idle process is watched before each run
TICK = 0.2  # seconds between the commits of paced invitations


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
    """User + system CPU of one process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class WaitSampler:
    """Samples, every 50 ms, what the active backends of the database wait on."""

    url: str
    samples: int = 0
    waits: Counter[str] = field(default_factory=Counter)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        engine = create_engine(self.url)
        with engine.connect() as connection:
            while not self.stop.is_set():
                for kind, name, count in connection.execute(text(
                        "SELECT wait_event_type, wait_event, count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid() "
                        "AND wait_event IS NOT NULL GROUP BY 1, 2")):
                    self.waits[f"{kind}:{name}"] += count
                self.samples += 1
                connection.commit()
                self.stop.wait(0.05)
        engine.dispose()

    @property
    def lock_waits(self) -> int:
        return sum(count for name, count in self.waits.items() if name.startswith("Lock:"))


@dataclass
class Result:
    processes: int
    cpu: float  # of all the processes, from all ready to the last message done
    idle: float  # what the processes spent per second, all idle, just before the run
    seconds: float
    count: int
    duplicates: int
    lost: int
    waits: WaitSampler
    reference: float = 0.0  # CPU of the reference work per process, as many processes at once

    @property
    def per_thousand(self) -> float:
        return self.cpu / self.count * 1000


def processes(command: Callable[[int], list[str]], count: int, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen(command(i), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for i in range(count)]


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
            done: Callable[[], bool]) -> tuple[float, float, float, WaitSampler]:
    """(CPU of the processes from ready to done, their idle CPU per second before, seconds, waits)."""
    idle = settled(procs)
    sampler = WaitSampler(url)
    thread = threading.Thread(target=sampler.run)
    thread.start()
    before = sum(cpu_seconds(p.pid) for p in procs)
    start = time.perf_counter()
    work()
    wait_for(done)
    seconds = time.perf_counter() - start
    cpu = sum(cpu_seconds(p.pid) for p in procs) - before
    sampler.stop.set()
    thread.join()
    return cpu, idle, seconds, sampler


def settled(procs: list[subprocess.Popen[bytes]], timeout: float = 120) -> float:
    """Wait until the processes are started up and idle (under 20 ms of CPU each in a second),
    then watch them idle for a while: their CPU per second then (polling for work)."""
    deadline = time.monotonic() + timeout
    last = sum(cpu_seconds(p.pid) for p in procs)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = sum(cpu_seconds(p.pid) for p in procs)
        if now - last < 0.02 * len(procs):
            time.sleep(IDLE_WINDOW)
            return (sum(cpu_seconds(p.pid) for p in procs) - now) / IDLE_WINDOW
        last = now
    raise TimeoutError("the processes did not settle")


def environment(url: str, relay_port: int) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "SMTP_RELAY_URL": f"smtp://127.0.0.1:{relay_port}",
            "SECRET_KEY": "bench", "MAIL_DOMAIN": DOMAIN}


def tautan() -> str:
    return shutil.which("tautan", path=str(Path(sys.executable).parent)) or "tautan"


def count_of(engine: Engine, query: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(query)).scalar() or 0)


def invitations(url: str, messages: int, pace: float | None = None) -> None:
    """Invite ``messages`` suppliers: all at once, or ``pace`` a second (a commit every 0.2 s)."""
    container = Container(Settings(database_url=url, secret_keys=("bench",), mail_domain=DOMAIN))
    if not count_of(container.engine, "SELECT count(*) FROM companies"):
        services.create_company(container.uow(), name="PT Bench", roles=[Role.CUSTOMER], actor="bench", via="cli")
    rows = [InviteRow(email=f"sales{i}@supplier{i}.co.id", types="invoice") for i in range(messages)]
    step = max(1, round(pace * TICK)) if pace else len(rows)
    start = time.monotonic()
    for n, first in enumerate(range(0, len(rows), step)):
        time.sleep(max(0.0, start + n * step / (pace or step) - time.monotonic()))
        services.invite_many(container.uow(), customer="PT Bench", rows=rows[first:first + step], actor="bench",
                             via="cli")
    container.close()


def workers(server_url: str, count: int, messages: int, pace: float | None = None) -> Result:
    """``count`` workers deliver ``messages`` invitations, queued all at once, to one relay."""
    with database(server_url) as url:
        recorder = Recorder()
        relay = Controller(recorder, hostname="127.0.0.1", port=free_port())
        relay.start()
        engine = create_engine(url)
        procs = processes(lambda _: [tautan(), "worker", "--interval", "5"], count, environment(url, relay.port))
        try:
            cpu, idle, seconds, sampler = measure(
                url, procs, lambda: invitations(url, messages, pace),
                lambda: count_of(engine, "SELECT count(*) FROM outbox WHERE status = 'sent'") == messages)
        finally:
            stop(procs)
            relay.stop()
            engine.dispose()
        unique = set(recorder.ids)
        return Result(count, cpu, idle, seconds, messages, len(recorder.ids) - len(unique), messages - len(unique),
                      sampler)


def smtp_servers(server_url: str, count: int, messages: int, pace: float | None = None) -> Result:
    """``count`` SMTP processes, each on its own port, receive replies to ``messages`` invitations
    from eight sending servers (spread evenly over the processes, as MX records or a balancer
    would) and process them: each accepts its invitation and queues the confirmation."""
    with database(server_url) as url:
        invitations(url, messages)
        engine = create_engine(url)
        with engine.connect() as connection:
            tokens = list(connection.execute(text("SELECT reply_token FROM invitations ORDER BY id")).scalars())
        ports = [free_port() for _ in range(count)]
        procs = processes(lambda i: [tautan(), "smtp", "--listen", f"127.0.0.1:{ports[i]}"], count,
                          environment(url, free_port()))
        try:
            for port in ports:
                wait_for(lambda: _listening(port), timeout=60)
            cpu, idle, seconds, sampler = measure(
                url, procs, lambda: send(replies(tokens), tokens, ports, pace),
                lambda: count_of(engine, "SELECT count(*) FROM inbox WHERE status <> 'new' AND status <> "
                                         "'processing'") >= messages)
            stored = count_of(engine, "SELECT count(*) FROM inbox")
            accepted = count_of(engine, "SELECT count(DISTINCT invitation_id) FROM events WHERE kind = 'accepted'")
            acted = count_of(engine, "SELECT count(*) FROM events WHERE kind = 'reply_read'")
        finally:
            stop(procs)
            engine.dispose()
        # a duplicate: a message stored, or acted on, twice; lost: an invitation not accepted
        return Result(count, cpu, idle, seconds, messages, stored - messages + acted - messages, messages - accepted,
                      sampler)


def send(mails: Sequence[bytes], tokens: Sequence[str], ports: Sequence[int], pace: float | None = None) -> None:
    """Send every reply over ``SENDERS`` connections at once: as fast as they go, or ``pace`` a second."""
    start = time.monotonic()

    def one(sender: int) -> None:
        with smtplib.SMTP("127.0.0.1", ports[sender % len(ports)]) as client:
            for i in range(sender, len(mails), SENDERS):
                if pace:
                    time.sleep(max(0.0, start + i / pace - time.monotonic()))
                client.sendmail(f"sales{i}@supplier{i}.co.id", [f"connect+{tokens[i]}@{DOMAIN}"], mails[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


# The reference: the same fixed piece of pure Python work (the stdlib building and serialising
# emails, no database, no network) in each of N processes at once.
REFERENCE = """
import email.message
for i in range(1500):
    m = email.message.EmailMessage()
    m["From"], m["To"], m["Subject"] = "a@b.example", f"x{i}@y.example", "Undangan untuk terhubung"
    m.set_content("Halo " * 50)
    m.add_alternative("<p>Halo</p>" * 50, subtype="html")
    m.as_bytes()
"""


def reference(count: int) -> float:
    """CPU seconds of the reference work per process, ``count`` processes at once: how much the
    machine alone makes the same work cost when that many processes share its cores."""
    procs = [subprocess.Popen([sys.executable, "-c", REFERENCE]) for _ in range(count)]
    usage = []
    for proc in procs:
        _, status, rusage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        usage.append(rusage.ru_utime + rusage.ru_stime)
    return sum(usage) / count


def report(title: str, runs: dict[int, list[Result]]) -> None:
    print(title)
    first = statistics.median(r.per_thousand for r in runs[min(runs)])
    first_reference = statistics.median(r.reference for r in runs[min(runs)])
    for processes_, results in runs.items():
        cpu = statistics.median(r.per_thousand for r in results)
        machine = statistics.median(r.reference for r in results) / first_reference
        waits: Counter[str] = sum((r.waits.waits for r in results), Counter())
        samples = sum(r.waits.samples for r in results)
        print(f"  {processes_} process(es): {cpu:6.2f} CPU s per 1,000 messages (ratio to 1 process "
              f"{cpu / first:4.2f}; rounds {', '.join(f'{r.per_thousand:.2f}' for r in results)}), "
              f"{statistics.median(r.count / r.seconds for r in results):5.0f} msg/s, "
              f"idle {statistics.median(r.idle for r in results) * 1000:4.1f} ms CPU/s, "
              f"{sum(r.duplicates for r in results)} duplicates, {sum(r.lost for r in results)} lost")
        top = ", ".join(f"{name} {count}" for name, count in waits.most_common(4))
        print(f"      lock waits {sum(r.waits.lock_waits for r in results)} in {samples} samples; "
              f"waits seen: {top or 'none'}")
        if processes_ > 1:
            print(f"      the machine alone: the reference work costs {machine:4.2f}x the CPU in {processes_} processes "
                  f"at once that it costs in one")


def rounds(run: Callable[[str, int, int, float | None], Result], url: str, counts: Sequence[int], messages: int,
           repeat: int, pace: float | None) -> dict[int, list[Result]]:
    runs: dict[int, list[Result]] = {n: [] for n in counts}
    for _ in range(repeat):
        for n in counts:
            result = run(url, n, messages, pace)
            result.reference = reference(n)
            runs[n].append(result)
    return runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", required=True, help="a PostgreSQL server URL (a throw-away database per run)")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pace", type=float, help="messages a second (default: all at once)")
    parser.add_argument("--only", choices=("workers", "smtp"), help="run one of the two measurements")
    args = parser.parse_args(argv)
    how = f"{args.pace:g} a second" if args.pace else "all at once"
    if args.only != "smtp":
        report(f"outbox workers, {args.messages} invitations ({how}) each run, postgresql, median of {args.rounds}",
               rounds(workers, args.url, (1, 2, 4), args.messages, args.rounds, args.pace))
    if args.only != "workers":
        report(f"SMTP servers, {args.messages} replies ({how}) from {SENDERS} senders each run, postgresql, "
               f"median of {args.rounds}", rounds(smtp_servers, args.url, (1, 2), args.messages, args.rounds,
                                                  args.pace))


if __name__ == "__main__":
    main()
