"""Two actors changing the same thing at once: exactly one wins, the other gets a clear user error.

The race runs on PostgreSQL with two real connections in two threads; the optimistic version
check (the second line of defence, for paths that read without a lock) is shown on both databases.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from tautan.core import services
from tautan.core.errors import ConcurrentChange, InvitationClosed, UserError
from tautan.core.model import Connection, Event, Status
from tautan.core.uow import UnitOfWork
from tautan.db import make_engine, make_session_factory
from tests.support import factories as f


def race(*actions: Callable[[], object]) -> list[object]:
    """Run the actions at the same moment, each in its own thread; returns results or errors."""
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def run(i: int, action: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[i] = action()
        except UserError as error:
            results[i] = error

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def two_uows(migrated_postgres, engine, clock):  # noqa: ANN001, ANN201
    """Two units of work on two separate engines: two real server connections."""
    engines = [make_engine(migrated_postgres) for _ in range(2)]
    yield [UnitOfWork(make_session_factory(e), clock=clock) for e in engines]
    for e in engines:
        e.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_accept_and_cancel_at_once_one_wins(uow, two_uows) -> None:  # noqa: ANN001
    f.companies(uow)
    first, second = two_uows
    outcomes = set()
    for i in range(15):
        invitation = f.invite(uow, email=f"sales{i}@pt-maju.co.id", supplier_name=f"PT Maju {i}")
        results = race(
            lambda: services.accept(first, invitation_id=invitation.id, actor=f.CONTACT, via="email"),
            lambda: services.cancel(second, invitation_id=invitation.id, actor=f.ADMIN, via="slack"),
        )
        errors = [r for r in results if isinstance(r, UserError)]
        winners = [r for r in results if not isinstance(r, UserError)]
        assert len(winners) == 1 and len(errors) == 1, results
        assert isinstance(errors[0], (InvitationClosed, ConcurrentChange))
        outcomes.add(winners[0].status)
        with uow:
            kinds = uow.session.scalars(select(Event.kind).where(Event.invitation_id == invitation.id)).all()
            status = uow.session.scalar(select(Connection.status).where(Connection.invitation_id == invitation.id))
        assert sorted(kinds) in (["accepted", "invited"], ["cancelled", "invited"])
        assert status == {"accepted": Status.CONNECTED, "cancelled": Status.CANCELLED}[winners[0].status]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_admins_inviting_at_once_make_one_invitation(uow, two_uows) -> None:  # noqa: ANN001
    f.companies(uow)
    first, second = two_uows
    results = race(lambda: f.invite(first, types=("order",)), lambda: f.invite(second, types=("order",)))
    invitations = [r for r in results if not isinstance(r, UserError)]
    assert invitations, results
    assert all(isinstance(r, ConcurrentChange) for r in results if isinstance(r, UserError))
    with uow:
        assert uow.session.scalar(select(func.count()).select_from(Connection)) == 1
        assert uow.session.scalar(select(func.count()).select_from(Event)) == 1 + 2  # 2 companies + invited


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_approvals_of_one_request(uow, two_uows) -> None:  # noqa: ANN001
    f.companies(uow)
    [connection] = services.request(uow, supplier=f.SUPPLIER, customer=f.CUSTOMER, types=["order"],
                                    actor=f.CONTACT, via="email")
    first, second = two_uows
    results = race(lambda: services.approve(first, connection_id=connection.id, actor="slack:T1/U1", via="slack"),
                   lambda: services.deny(second, connection_id=connection.id, actor="slack:T1/U2", via="slack"))
    assert sum(isinstance(r, UserError) for r in results) == 1, results
    with uow:
        kinds = uow.session.scalars(select(Event.kind).where(Event.connection_id == connection.id)).all()
    assert len(kinds) == 2  # requested + exactly one answer


def test_a_stale_version_is_refused(uow, clock, engine) -> None:  # noqa: ANN001
    """A change read without a lock and written after someone else's commit is refused."""
    f.companies(uow)
    invitation = f.invite(uow)
    connection_id = invitation.connections[0].id
    factory = make_session_factory(engine)
    with factory() as reader:  # read at version 1, then let go of the session
        connection = reader.get(Connection, connection_id)
        reader.expunge(connection)
        reader.rollback()
    services.accept(uow, invitation_id=invitation.id, actor=f.CONTACT, via="email")  # version 2
    late = UnitOfWork(factory, clock=clock)
    with pytest.raises(ConcurrentChange):
        with late:
            late.session.add(connection)
            connection.status = Status.CANCELLED
            late.commit()
    assert services.get_invitation(uow, invitation_id=invitation.id).connections[0].status == "connected"
