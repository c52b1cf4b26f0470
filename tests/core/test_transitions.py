"""The transition table, walked pair by pair: on its own and through the services on a real database."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from tautan.core import services
from tautan.core.errors import InvalidTransition, NotAllowed, UserError
from tautan.core.model import Connection, Event, Status
from tautan.core.transitions import TRANSITIONS, Action, Side, transition
from tautan.core.uow import UnitOfWork
from tests.support import factories as f

STATES: list[Status | None] = [None, *Status]

# DESIGN.md §1, written out by hand so the table in code is checked against the spec.
EXPECTED = {
    (Action.INVITE, s): (Status.INVITED, {Side.CUSTOMER})
    for s in (None, Status.REJECTED, Status.CANCELLED, Status.EXPIRED, Status.DISCONNECTED)
} | {
    (Action.REQUEST, s): (Status.REQUESTED, {Side.SUPPLIER})
    for s in (None, Status.REJECTED, Status.CANCELLED, Status.EXPIRED, Status.DISCONNECTED)
} | {
    (Action.ACCEPT, Status.INVITED): (Status.CONNECTED, {Side.SUPPLIER}),
    (Action.APPROVE, Status.REQUESTED): (Status.CONNECTED, {Side.CUSTOMER}),
    (Action.DECLINE, Status.INVITED): (Status.REJECTED, {Side.SUPPLIER}),
    (Action.DENY, Status.REQUESTED): (Status.REJECTED, {Side.CUSTOMER}),
    (Action.CANCEL, Status.INVITED): (Status.CANCELLED, {Side.CUSTOMER}),
    (Action.CANCEL, Status.REQUESTED): (Status.CANCELLED, {Side.SUPPLIER}),
    (Action.EXPIRE, Status.INVITED): (Status.EXPIRED, {Side.SYSTEM}),
    (Action.EXPIRE, Status.REQUESTED): (Status.EXPIRED, {Side.SYSTEM}),
    (Action.DISCONNECT, Status.CONNECTED): (Status.DISCONNECTED, {Side.CUSTOMER, Side.SUPPLIER}),
}


def test_table_is_the_design() -> None:
    assert {k: (r.to, set(r.by)) for k, r in TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize(("action", "status", "side"), list(itertools.product(Action, STATES, Side)))
def test_every_pair(action: Action, status: Status | None, side: Side) -> None:
    expected = EXPECTED.get((action, status))
    if expected is None:
        with pytest.raises(InvalidTransition):
            transition(action, status, side)
    elif side not in expected[1]:
        with pytest.raises(NotAllowed):
            transition(action, status, side)
    else:
        assert transition(action, status, side) == expected[0]


def _snapshot(uow: UnitOfWork) -> tuple[object, ...]:
    with uow:
        rows = uow.session.execute(select(Connection.id, Connection.status, Connection.version)
                                   .order_by(Connection.id)).all()
        events = uow.session.scalar(select(func.count()).select_from(Event))
    return tuple(rows), events


def _perform(uow, action: Action, connection_id: int | None) -> str:  # noqa: ANN001
    """Do ``action`` through its service; returns the connection's new status."""
    invitation_id = None
    if connection_id is not None:
        with uow:
            invitation_id = uow.session.get(Connection, connection_id).invitation_id
    if action is Action.INVITE:
        return f.invite(uow).connections[0].status
    if action is Action.REQUEST:
        return services.request(uow, supplier=f.SUPPLIER, customer=f.CUSTOMER, types=["invoice"],
                                actor=f.CONTACT, via="email")[0].status
    if action is Action.EXPIRE:
        # Expiry is the system's: it only ever picks what is due, so ask the table directly as the
        # service would for this connection.
        with uow:
            connection = uow.session.get(Connection, connection_id) if connection_id else None
            transition(Action.EXPIRE, connection.status if connection else None, Side.SYSTEM)
        return ""
    if connection_id is None:
        raise InvalidTransition(status="-", action=action.value)
    by_invitation = {Action.ACCEPT: services.accept, Action.DECLINE: services.decline}
    if action in by_invitation or (action is Action.CANCEL and invitation_id and _status(uow, connection_id)
                                   == Status.INVITED):
        service = by_invitation.get(action, services.cancel)
        if invitation_id is None:
            raise InvalidTransition(status="-", action=action.value)
        return service(uow, invitation_id=invitation_id, actor=f.CONTACT, via="email").connections[0].status
    by_connection = {Action.APPROVE: services.approve, Action.DENY: services.deny,
                     Action.CANCEL: services.cancel_request}
    if action in by_connection:
        return by_connection[action](uow, connection_id=connection_id, actor=f.ADMIN, via="slack").status
    return services.disconnect(uow, connection_id=connection_id, side=Side.CUSTOMER, actor=f.ADMIN,
                               via="slack").status


def _status(uow, connection_id: int) -> str:  # noqa: ANN001
    with uow:
        return uow.session.get(Connection, connection_id).status


@pytest.mark.parametrize(("status", "action"), list(itertools.product(STATES, [a for a in Action if a is not Action.EXPIRE])))
def test_every_pair_through_the_services(uow, clock, status: Status | None, action: Action) -> None:  # noqa: ANN001
    f.companies(uow)
    connection_id = f.connection_in(uow, clock, status)
    before = _snapshot(uow)
    if (action, status) == (Action.INVITE, Status.INVITED):
        # Not a transition: inviting again while the invitation is live hands back the live one.
        assert f.invite(uow).created is False
        assert _snapshot(uow) == before
    elif (action, status) in EXPECTED:
        assert _perform(uow, action, connection_id) == EXPECTED[(action, status)][0]
        assert _snapshot(uow)[1] > before[1], "an event is written with the change"
    else:
        with pytest.raises(UserError):
            _perform(uow, action, connection_id)
        assert _snapshot(uow) == before, "a refused change changes nothing"


def test_every_event_kind_and_channel_has_a_label_and_every_action_an_event() -> None:
    from tautan.core.events import EVENT_OF_ACTION, EventKind, Via
    from tautan.core.views import EVENT_LABELS, VIA_LABELS

    assert set(EVENT_LABELS) == set(EventKind)
    assert set(VIA_LABELS) == set(Via)
    assert set(EVENT_OF_ACTION) == set(Action)


def test_an_unknown_event_kind_or_channel_is_refused_not_stored(uow: UnitOfWork) -> None:
    import pytest

    with uow:
        with pytest.raises(ValueError):
            uow.record("acepted", actor="system", via="system")
        with pytest.raises(ValueError):
            uow.record("accepted", actor="system", via="carrier-pigeon")
        with pytest.raises(ValueError):
            uow.enqueue(channel="fax", kind="invitation", recipient="ana@pt-maju.co.id", lang="id")
