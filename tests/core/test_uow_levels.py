"""Services inside a larger unit of work (processing one inbound message): one that only reads, or
makes every check before its first change, joins the unit's transaction without a savepoint and
never commits it on its own; everything is kept, or nothing, with the outer commit."""

from __future__ import annotations

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
