"""The queues: short leases and their heartbeat (a live process keeps its claim, a dead one loses it in
seconds), and channel notices queued only when wanted, expired when too old."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from tautan.core import inbox, outbox
from tautan.core.lease import LEASE, Heartbeat


def queue_email(uow) -> None:  # noqa: ANN001
    with uow:
        uow.enqueue(channel="email", kind="answer_help", recipient="ana@pt-maju.co.id", lang="en")
        uow.commit()


def test_an_outbox_claim_lasts_seconds_and_is_renewed(uow, clock) -> None:  # noqa: ANN001
    queue_email(uow)
    [item] = outbox.claim(uow, channel="email")
    clock.advance(seconds=LEASE.total_seconds() * 2 / 3)
    assert outbox.renew(uow, ids=[item.id]) == 1  # the heartbeat of a live worker
    clock.advance(seconds=LEASE.total_seconds() * 2 / 3)
    assert outbox.claim(uow, channel="email") == []  # still held: past the first lease, not the renewed one
    clock.advance(seconds=LEASE.total_seconds())  # the worker died: no more beats
    [taken] = outbox.claim(uow, channel="email")
    assert taken.id == item.id and taken.attempts == 2


def test_an_inbox_claim_is_taken_over_after_a_crash(uow, clock) -> None:  # noqa: ANN001
    stored = inbox.store(uow, dedup_key="mid:x", message_id="<x@y>", source="test", mail_from="a@b.example",
                         rcpt_tos=["connect+x@c.example"], raw=b"Subject: x\r\n\r\nx\r\n")
    assert [i.id for i in inbox.claim(uow)] == [stored.id]
    assert inbox.claim(uow) == []
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert [i.id for i in inbox.claim(uow)] == [stored.id]
    inbox.finish(uow, inbox_id=stored.id, outcome="done")
    assert inbox.renew(uow, ids=[stored.id]) == 0  # a finished row is not leased again


def test_the_heartbeat_beats_until_the_work_is_done() -> None:
    beats: list[Sequence[int]] = []
    beat = threading.Event()

    def renew(ids: Sequence[int]) -> None:
        beats.append(list(ids))
        beat.set()

    with Heartbeat(renew, [1, 2], interval=LEASE / 1000):
        assert beat.wait(10)
    count = len(beats)
    assert count >= 1 and beats[0] == [1, 2]
    assert len(beats) == count  # stopped with the block


def test_a_failing_beat_does_not_stop_the_work() -> None:
    calls = threading.Event()

    def renew(_ids: Sequence[int]) -> None:
        calls.set()
        raise RuntimeError("database away")

    with Heartbeat(renew, [1], interval=LEASE / 1000):
        assert calls.wait(10)


def test_notices_are_queued_only_when_wanted_and_expire(uow, clock) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from tautan.core import services
    from tautan.core.model import Outbox
    from tests.support import factories as f

    f.companies(uow)
    first = f.invite(uow, email="a@pt-satu.co.id")
    services.accept(uow, invitation_id=first.id, actor=f.CONTACT, via="email")
    with uow:
        assert list(uow.session.scalars(select(Outbox.kind).where(Outbox.channel == "slack"))) == []
    customer = services.get_company(uow, f.CUSTOMER)
    services.set_notices_wanted(uow, company_id=customer.id, wanted=True, actor=f.ADMIN, via="cli")
    second = f.invite(uow, email="b@pt-dua.co.id", supplier_name="PT Dua")
    services.accept(uow, invitation_id=second.id, actor=f.CONTACT, via="email")
    assert outbox.expire_stale(uow, channel="slack") == 0
    clock.advance(days=2)
    assert outbox.expire_stale(uow, channel="slack") == 1
    with uow:
        assert list(uow.session.scalars(select(Outbox.status).where(Outbox.channel == "slack"))) == ["failed"]


def test_a_claimed_invitation_reads_as_everywhere_else(uow) -> None:  # noqa: ANN001
    """The claim reads a batch's connections as rows; the invitation it hands over is the one the
    services show (its document types in order, the customer and supplier by name)."""
    import dataclasses

    from tautan.core import services
    from tests.support import factories as f

    f.companies(uow)
    invited = f.invite(uow, types=("order", "invoice", "catalog"))
    [item] = outbox.claim(uow, channel="email")
    shown = services.get_invitation(uow, invitation_id=invited.id)
    assert item.invitation is not None and item.invitation.types == shown.types
    assert item.invitation == dataclasses.replace(shown, last_sent_at=item.invitation.last_sent_at)
    assert [c.supplier for c in item.invitation.connections] == [invited.supplier] * 3
