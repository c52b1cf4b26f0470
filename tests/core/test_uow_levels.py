"""Services inside a larger unit of work (processing one inbound message): one that only reads or
only adds rows joins the unit's transaction without a savepoint and never commits it on its own;
everything is kept, or nothing, with the outer commit."""

from __future__ import annotations

from sqlalchemy import event, func, select

from tautan.core import services
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


def test_a_service_that_only_adds_rows_is_kept_or_undone_with_the_outer_unit(uow) -> None:  # noqa: ANN001
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


def test_a_service_that_may_fail_halfway_still_gets_a_savepoint(uow) -> None:  # noqa: ANN001
    f.companies(uow)
    invitation = f.invite(uow)

    def accept_inside() -> None:
        with uow:
            services.accept(uow, reply_token=invitation.reply_token, actor="email:x", via="email")
            uow.commit()

    assert savepoints(uow, accept_inside)  # a failed transition must not leave half of it behind
    assert services.get_invitation(uow, invitation_id=invitation.id).status == "accepted"
