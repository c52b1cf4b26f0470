"""Services inside a larger unit of work (processing one inbound message): one that only reads, or
makes every check before its first change, joins the unit's transaction without a savepoint and
never commits it on its own; everything is kept, or nothing, with the outer commit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, func, select

from tautan.core import services
from tautan.core.errors import InvitationClosed
from tautan.core.model import Event, Outbox
from tests.support import factories as f


def count(uow, model) -> int:  # noqa: ANN001
    with uow.reading():
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def savepoints(uow, work) -> list[str]:  # noqa: ANN001, ANN201
    statements: list[str] = []
    engine = uow.session_factory.kw["bind"]
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return [s for s in statements if "SAVEPOINT" in s]


def test_services_without_a_savepoint_are_kept_or_undone_with_the_outer_unit(uow) -> None:  # noqa: ANN001
    f.companies(uow)
    invitation = f.invite(uow)
    events, queued = count(uow, Event), count(uow, Outbox)

    def inside(commit: bool) -> None:
        with uow:
            services.record_reading(uow, reply_token=invitation.reply_token, outcome="unclear", text="hm",
                                    signals=(), actor="email:x", via="email")
            services.answer(uow, recipient=invitation.email, kind="answer_unclear", lang="en",
                            invitation_id=invitation.id)
            assert count(uow, Event) == events + 1  # read in the same transaction, not yet committed
            if commit:
                uow.commit()

    assert savepoints(uow, lambda: inside(commit=False)) == []
    assert (count(uow, Event), count(uow, Outbox)) == (events, queued)  # their own commit() kept nothing
    inside(commit=True)
    assert (count(uow, Event), count(uow, Outbox)) == (events + 1, queued + 1)


def test_alone_they_are_ordinary_units_of_work(uow) -> None:  # noqa: ANN001
    f.companies(uow)
    invitation = f.invite(uow)
    queued = count(uow, Outbox)
    services.answer(uow, recipient=invitation.email, kind="answer_help", lang="en", invitation_id=invitation.id)
    assert count(uow, Outbox) == queued + 1


def test_a_service_that_may_fail_after_a_change_still_gets_a_savepoint(uow) -> None:  # noqa: ANN001
    f.companies(uow)
    invitation = f.invite(uow, types=("order", "invoice"))

    def answer_inside() -> None:
        with uow:
            services.answer_types(uow, reply_token=invitation.reply_token, accept=["invoice"], decline=[],
                                  actor="email:x", via="email")
            uow.commit()

    assert savepoints(uow, answer_inside)
    assert {c.type: c.status for c in services.get_invitation(uow, invitation_id=invitation.id).connections} == {
        "invoice": "connected", "order": "invited"}


def test_an_acceptance_checks_everything_before_it_changes_anything(uow) -> None:  # noqa: ANN001
    f.companies(uow)
    invitation = f.invite(uow)
    services.cancel(uow, invitation_id=invitation.id, actor="x", via="cli")
    with uow:
        with pytest.raises(InvitationClosed):
            services.accept(uow, reply_token=invitation.reply_token, actor="email:x", via="email")
        services.record_reading(uow, reply_token=invitation.reply_token, outcome="closed", text="ok",
                                signals=(), actor="email:x", via="email")
        assert not uow.session.dirty  # the failed acceptance left nothing behind in the unit of work
        uow.commit()
    assert services.get_invitation(uow, invitation_id=invitation.id).status == "cancelled"


def test_changes_of_one_transaction_keep_their_own_notices_and_times(uow, clock) -> None:  # noqa: ANN001
    f.companies(uow, notices=True)
    first = f.invite(uow)
    second = f.invite(uow, email="sales@lain.co.id", supplier_name="PT Lain")
    with uow:
        services.accept(uow, reply_token=first.reply_token, actor="email:ana@pt-maju.co.id", via="email")
        uow.next_change()
        clock.advance(seconds=5)
        services.accept(uow, reply_token=second.reply_token, actor="email:sales@lain.co.id", via="email")
        uow.commit()
    with uow.reading():
        notices = list(uow.session.scalars(select(Outbox.invitation_id).where(Outbox.channel == "slack",
                                                                              Outbox.kind == "accepted")))
        times = dict(uow.session.execute(select(Event.invitation_id, Event.at).where(Event.kind == "accepted")).all())
    assert sorted(notices) == sorted([first.id, second.id])  # one each, not one for both
    assert times[second.id] - times[first.id] == dt.timedelta(seconds=5)


def test_next_change_belongs_at_the_top_level(uow) -> None:  # noqa: ANN001
    with pytest.raises(RuntimeError):
        uow.next_change()  # not open
    with uow:
        with uow, pytest.raises(RuntimeError):
            uow.next_change()  # inside a nested level
