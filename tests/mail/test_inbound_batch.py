"""Processing stored messages several in one transaction (``inbox.process_batch``): one commit
for the batch, each reply still its own change (its own notice, its own time), all or nothing
when one of them fails (then one by one, where the failing one is marked and the others are
acted on once), no new message started once the time budget is spent, and the invitations of a
batch loaded and locked with one statement."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import create_engine, event, select, text

from tautan.core import inbox, services
from tautan.core.model import Event, Inbox, Outbox
from tautan.mail.inbound import Envelope
from tests.support import FakeClock
from tests.support import factories as f

DOMAIN = "connect.example.id"


def reply(token: str, sender: str, body: str = "Setuju") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = f"connect+{token}@{DOMAIN}"
    message["Subject"] = "Re: undangan"
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    message.set_content(body)
    return message.as_bytes()


@pytest.fixture(autouse=True)
def _patient(monkeypatch) -> None:  # noqa: ANN001
    """No time budget to run out on a busy machine: a test that wants one sets it."""
    monkeypatch.setattr(inbox, "BATCH_SECONDS", 60.0)


@pytest.fixture
def three(container):  # noqa: ANN001, ANN201
    """Three invitations of one customer (whose team reads notices), to three suppliers, each
    answered by a stored reply; the inbound handler and the invitations, in order."""
    uow = container.uow()
    f.companies(uow, notices=True)
    invitations = [f.invite(uow, email=f"sales@supplier{i}.co.id", supplier_name=f"PT Pemasok {i}")
                   for i in range(3)]
    inbound = container.inbound()
    for i, invitation in enumerate(invitations):
        sender = f"sales@supplier{i}.co.id"
        inbound.receive(reply(invitation.reply_token, sender), Envelope(sender, (f"connect+{invitation.reply_token}@{DOMAIN}",)),
                        source="test")
    return inbound, invitations


@contextlib.contextmanager
def commits(engine):  # noqa: ANN001, ANN201
    """The commits made meanwhile (a list that grows)."""
    counted: list[int] = []

    def count(_connection) -> None:  # noqa: ANN001
        counted.append(1)

    event.listen(engine, "commit", count)
    try:
        yield counted
    finally:
        event.remove(engine, "commit", count)


def outcomes(container) -> list[tuple[str, str | None]]:  # noqa: ANN001
    with container.uow() as uow:
        return [(r.status, r.outcome) for r in uow.session.scalars(select(Inbox).order_by(Inbox.id))]


def confirmations(container) -> list[str]:  # noqa: ANN001
    with container.uow() as uow:
        return sorted(uow.session.scalars(select(Outbox.recipient).where(Outbox.kind == "accepted", Outbox.channel == "email")))


def test_several_replies_one_commit_each_its_own_change(container, three, engine) -> None:  # noqa: ANN001
    inbound, invitations = three
    with commits(container.engine) as counted:
        assert inbound.process_pending() == 3
    assert len(counted) == 1
    assert outcomes(container) == [("done", "accepted")] * 3
    assert confirmations(container) == [f"sales@supplier{i}.co.id" for i in range(3)]
    for invitation in invitations:
        assert services.get_invitation(container.uow(), invitation_id=invitation.id).status == "accepted"
    # one notice per invitation in the team's channel, not one for the three
    with container.uow() as uow:
        notices = list(uow.session.scalars(select(Outbox.invitation_id).where(Outbox.channel == "slack")))
    assert sorted(notices) == sorted(i.id for i in invitations)


def test_each_reply_of_a_batch_reads_the_clock_afresh(container, three, monkeypatch) -> None:  # noqa: ANN001
    inbound, invitations = three

    def ticking(self: FakeClock) -> dt.datetime:  # every reading of the clock is a second later
        return self.advance(seconds=1)

    monkeypatch.setattr(FakeClock, "__call__", ticking)
    assert inbound.process_pending() == 3
    with container.uow() as uow:
        times = dict(uow.session.execute(select(Event.invitation_id, Event.at).where(Event.kind == "accepted")).all())
    assert sorted(times) == sorted(i.id for i in invitations)
    assert len(set(times.values())) == 3  # three changes, each at its own time


def test_a_failing_reply_spoils_nothing_of_the_others(container, three, engine) -> None:  # noqa: ANN001
    inbound, invitations = three
    real = inbound.process_message
    seen: list[str] = []

    def flaky(raw: bytes, *, envelope: Envelope) -> tuple[str, bool]:
        seen.append(envelope.rcpt_tos[0])
        if invitations[1].reply_token in envelope.rcpt_tos[0]:
            raise RuntimeError("a bug")
        return real(raw, envelope=envelope)

    inbound.process_message = flaky  # type: ignore[method-assign]
    assert inbound.process_pending() == 3
    assert outcomes(container) == [("done", "accepted"), ("failed", "error"), ("done", "accepted")]
    # the first was done in the batch that failed, undone, and done again alone: acted on once
    assert confirmations(container) == ["sales@supplier0.co.id", "sales@supplier2.co.id"]
    with container.uow() as uow:
        accepted = list(uow.session.scalars(select(Event.invitation_id).where(Event.kind == "accepted")))
        error = uow.session.scalar(select(Inbox.error).where(Inbox.id == 2))
        notices = list(uow.session.scalars(select(Outbox.invitation_id).where(Outbox.channel == "slack")))
    assert sorted(accepted) == [invitations[0].id, invitations[2].id]
    assert sorted(notices) == [invitations[0].id, invitations[2].id]  # once each, none for the undone one
    assert error == "RuntimeError: a bug"
    assert services.get_invitation(container.uow(), invitation_id=invitations[1].id).status == "pending"
    assert inbound.process_pending() == 0  # the failed one waits for a person, it is not retried


def test_no_new_message_once_the_budget_is_spent(container, three, engine, monkeypatch) -> None:  # noqa: ANN001
    inbound, _ = three
    monkeypatch.setattr(inbox, "BATCH_SECONDS", 0.0)
    with commits(container.engine) as counted:
        assert inbound.process_pending() == 3
    assert len(counted) == 3  # one message per transaction: the others stayed due, and came next
    assert outcomes(container) == [("done", "accepted")] * 3


def test_the_limit_bounds_a_batch(container, three) -> None:  # noqa: ANN001
    inbound, _ = three
    assert inbound.process_pending(limit=2) == 2
    assert [s for s, _ in outcomes(container)] == ["done", "done", "new"]
    assert inbound.process_pending(limit=2) == 1


def test_a_batch_loads_and_locks_its_invitations_with_one_statement(container, three, engine,
                                                                   database_url) -> None:  # noqa: ANN001
    inbound, invitations = three
    engine = container.engine
    statements: list[str] = []
    listener = lambda *args: statements.append(" ".join(args[2].split()))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    blocked: list[bool] = []
    real = inbound.process_message

    def probing(raw: bytes, *, envelope: Envelope) -> tuple[str, bool]:
        if engine.dialect.name == "postgresql" and not blocked:
            # while the batch is open, the last invitation is locked already, before its turn
            other = create_engine(database_url)
            try:
                with other.connect() as connection:
                    connection.execute(text("SET lock_timeout = '50ms'"))
                    try:
                        connection.execute(text("SELECT id FROM invitations WHERE id = :id FOR UPDATE"),
                                           {"id": invitations[2].id})
                        blocked.append(False)
                    except Exception:  # noqa: BLE001 - the lock timeout is what is looked for
                        blocked.append(True)
            finally:
                other.dispose()
        return real(raw, envelope=envelope)

    inbound.process_message = probing  # type: ignore[method-assign]
    try:
        assert inbound.process_pending() == 3
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    loads = [s for s in statements if s.startswith("SELECT invitations.id, invitations.customer_id")]
    assert len(loads) == 1
    assert not [s for s in statements if s.startswith("SELECT invitations.version")]
    if engine.dialect.name == "postgresql":
        assert "FOR UPDATE OF invitations" in loads[0]
        assert blocked == [True]


def test_two_processors_at_once_act_on_each_reply_once(container, three) -> None:  # noqa: ANN001
    inbound, invitations = three
    other = container.inbound()
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def run(handler) -> None:  # noqa: ANN001
        barrier.wait()
        counts.append(handler.process_pending())

    threads = [threading.Thread(target=run, args=(h,)) for h in (inbound, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 3
    assert outcomes(container) == [("done", "accepted")] * 3
    assert confirmations(container) == [f"sales@supplier{i}.co.id" for i in range(3)]


def test_a_question_asked_earlier_in_the_batch_is_seen_by_the_next_reply(container) -> None:  # noqa: ANN001
    """Two replies to one invitation, processed together: the first is a conditional yes (asked
    back), the second a bare yes to that question, which connects; and a third reply, to an
    invitation that never had a question, is read afresh."""
    uow = container.uow()
    f.companies(uow)
    asked = f.invite(uow, types=("invoice",), lang="en")
    plain = f.invite(uow, types=("invoice",), lang="en", email="sales@other.co.id", supplier_name="PT Lain")
    inbound = container.inbound()
    for token, sender, body in [(asked.reply_token, f.EMAIL, "Yes, as long as there are no fees."),
                                (asked.reply_token, f.EMAIL, "yes"),
                                (plain.reply_token, "sales@other.co.id", "yes")]:
        inbound.receive(reply(token, sender, body), Envelope(sender, (f"connect+{token}@{DOMAIN}",)), source="test")
    with commits(container.engine) as counted:
        assert inbound.process_pending() == 3
    assert len(counted) == 1
    assert [o for _, o in outcomes(container)] == ["confirmation_asked", "confirmed_accepted", "accepted"]
    assert services.get_invitation(container.uow(), invitation_id=asked.id).status == "accepted"
    assert services.get_invitation(container.uow(), invitation_id=plain.id).status == "accepted"
