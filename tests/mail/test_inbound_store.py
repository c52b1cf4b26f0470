"""Storing inbound mail in one statement: the database does the duplicate check (ON CONFLICT DO
NOTHING), several senders in DATA at once share a commit and every one of them hears 250 only for
a row that exists, a database that is down gets 451 and loses nothing; on SQLite every commit is
synced and a read never waits for the write lock. Processing a reply loads its invitation once."""

from __future__ import annotations

import smtplib
import threading
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import event, func, select, text

from tautan.core import inbox, services
from tautan.core.inbox import Incoming
from tautan.core.model import Inbox
from tautan.core.uow import UnitOfWork
from tautan.mail.inbound import Envelope, dedup_key
from tautan.settings import Settings
from tautan.wiring import Container
from tests.support import free_port
from tests.support.smtp import inbound_server

DOMAIN = "connect.example.id"
SENDERS = 6


@pytest.fixture
def server(container):  # noqa: ANN001, ANN201
    with inbound_server(container, domain=DOMAIN) as running:
        yield running


def reply(token: str, body: str = "Setuju") -> bytes:
    message = EmailMessage()
    message["From"] = "ana@pt-maju.co.id"
    message["To"] = f"connect+{token}@{DOMAIN}"
    message["Subject"] = "Re: undangan"
    message["Message-ID"] = make_msgid(domain="pt-maju.co.id")
    message.set_content(body)
    return message.as_bytes()


def incoming(raw: bytes, to: str = "connect+x@c.example") -> Incoming:
    key, message_id = dedup_key(raw, [to])
    return Incoming(dedup_key=key, message_id=message_id, source="test", mail_from="a@b.example",
                    rcpt_tos=(to,), raw=raw)


def rows(container) -> list[str]:  # noqa: ANN001
    with container.uow() as uow:
        return list(uow.session.scalars(select(Inbox.dedup_key).order_by(Inbox.id)))


def send_at_once(port: int, messages: list[bytes], to: str) -> list[BaseException | None]:
    """Each message from its own sending server, all at once; what each of them was told."""
    results: list[BaseException | None] = [None] * len(messages)
    start = threading.Barrier(len(messages))

    def one(i: int) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
                client.ehlo()
                client.mail("ana@pt-maju.co.id")
                client.rcpt(to)
                start.wait(10)  # every sender reaches DATA together
                code, _ = client.data(messages[i])
                if code != 250:
                    raise smtplib.SMTPDataError(code, b"")
        except BaseException as error:  # noqa: BLE001 - reported to the test
            results[i] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(messages))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_a_duplicate_is_found_by_the_database_in_one_statement(uow) -> None:  # noqa: ANN001
    first, second = incoming(b"Message-ID: <1@x>\r\n\r\none\r\n"), incoming(b"Message-ID: <2@x>\r\n\r\ntwo\r\n")
    statements: list[str] = []
    engine = uow.session_factory.kw["bind"]
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        stored = inbox.store_many(uow, [first, second, first])  # a retry arriving in the same group
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert [s for s in statements if s.startswith("INSERT")] and len([s for s in statements if "inbox" in s]) == 1
    assert [s.duplicate for s in stored] == [False, False, True] and stored[2].id == stored[0].id
    again = inbox.store_many(uow, [second])  # a later retry: ON CONFLICT DO NOTHING, then which row holds it
    assert again[0].duplicate and again[0].id == stored[1].id
    with uow:
        assert uow.session.scalar(select(func.count()).select_from(Inbox)) == 2


def test_storing_inside_an_open_unit_of_work_joins_its_transaction(uow) -> None:  # noqa: ANN001
    with uow:
        inbox.store_many(uow, [incoming(b"Message-ID: <3@x>\r\n\r\nthree\r\n")])
        # not committed: leaving the unit of work undoes the store with the rest
    with uow:
        assert uow.session.scalar(select(func.count()).select_from(Inbox)) == 0


def test_several_senders_in_data_at_once_all_get_250_and_every_row_exists(container, server, invited) -> None:  # noqa: ANN001
    inbound, port = server
    to = f"connect+{invited.reply_token}@{DOMAIN}"
    messages = [reply(invited.reply_token, f"Setuju {i}") for i in range(SENDERS)]
    assert send_at_once(port, messages, to) == [None] * SENDERS
    with container.uow() as uow:
        stored = list(uow.session.scalars(select(Inbox.raw)))
    assert sorted(raw.split(b"Setuju ")[1][:1] for raw in stored) == [b"%d" % i for i in range(SENDERS)]
    assert send_at_once(port, messages, to) == [None] * SENDERS  # the same deliveries again: stored once
    assert len(rows(container)) == SENDERS


def test_the_database_down_during_data_gets_451_for_everyone_and_nothing_is_lost(container, server, invited) -> None:  # noqa: ANN001
    inbound, port = server
    to = f"connect+{invited.reply_token}@{DOMAIN}"
    messages = [reply(invited.reply_token, f"Setuju {i}") for i in range(SENDERS)]
    working = inbound.uow
    down = Container(Settings(database_url=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x"))
    inbound.uow = lambda: UnitOfWork(down.session_factory, clock=container.clock)
    try:
        results = send_at_once(port, messages, to)
    finally:
        inbound.uow = working
        down.close()
    assert all(isinstance(r, smtplib.SMTPDataError) and r.smtp_code == 451 for r in results)
    assert rows(container) == []
    assert send_at_once(port, messages, to) == [None] * SENDERS  # the sending servers retry
    assert len(rows(container)) == SENDERS


def sync_level(uow) -> str:  # noqa: ANN001
    sql = "PRAGMA synchronous" if uow.session.get_bind().dialect.name == "sqlite" else "SHOW synchronous_commit"
    return str(uow.session.execute(text(sql)).scalar())


def test_every_commit_waits_for_the_disk_but_processing_a_stored_message(uow, engine) -> None:  # noqa: ANN001
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    full, normal = ("2", "1") if sqlite else ("on", "off")  # PostgreSQL: the server's setting, on
    with uow:
        assert sync_level(uow) == full  # a store the SMTP server answers 250 for, a page's answer, ...
    uow.redoable()  # processing: if the commit is lost, the message is processed again
    with uow:
        assert sync_level(uow) == normal
    with uow:  # the same connection again, for anything else: waits for the disk again
        assert sync_level(uow) == full


def test_reading_does_not_wait_for_a_writer(container, invited, engine) -> None:  # noqa: ANN001
    with engine.connect() as writer:  # holds the write lock (SQLite: BEGIN IMMEDIATE) and a row lock
        writer.execute(text("UPDATE invitations SET lang = lang WHERE id = :id"), {"id": invited.id})
        assert services.reply_token_known(container.uow(), reply_token=invited.reply_token)
        assert services.get_invitation(container.uow(), reply_token=invited.reply_token).id == invited.id
        assert inbox.status_of(container.uow(), inbox_id=1) is None
        writer.rollback()


def test_processing_a_reply_loads_its_invitation_once(container, invited) -> None:  # noqa: ANN001
    inbound, engine = container.inbound(), container.engine
    to = f"connect+{invited.reply_token}@{DOMAIN}"
    inbound.receive(reply(invited.reply_token), Envelope("ana@pt-maju.co.id", (to,)), source="test")
    statements: list[str] = []
    listener = lambda *args: statements.append(" ".join(args[2].split()))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert inbound.process_pending() == 1
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert services.get_invitation(container.uow(), invitation_id=invited.id).status == "accepted"
    loads = [s for s in statements if s.startswith("SELECT invitations.id, invitations.customer_id")]
    locks = [s for s in statements if s.startswith("SELECT invitations.version")]
    assert len(loads) == 1  # the services that read, record and accept share it
    assert not locks  # locked as it was loaded (PostgreSQL: FOR UPDATE; SQLite: the database since BEGIN)
    if engine.dialect.name == "postgresql":
        assert "FOR UPDATE OF invitations" in loads[0]
    assert not [s for s in statements if s.startswith("SELECT companies.id, companies.name")]  # loaded with it
