"""The one table of allowed connection changes (DESIGN.md §1). Every service goes through
``transition()``; anything not in the table raises ``InvalidTransition`` and changes nothing."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from tautan.core.errors import InvalidTransition, NotAllowed
from tautan.core.i18n import N_, Label
from tautan.core.model import Status


class Action(enum.StrEnum):
    INVITE = "invite"
    REQUEST = "request"
    ACCEPT = "accept"
    APPROVE = "approve"
    DECLINE = "decline"
    DENY = "deny"
    CANCEL = "cancel"
    EXPIRE = "expire"
    DISCONNECT = "disconnect"


class Side(enum.StrEnum):
    """Who acts: the customer's admins, the supplier's contacts, or the system itself."""

    CUSTOMER = "customer"
    SUPPLIER = "supplier"
    SYSTEM = "system"


@dataclass(frozen=True)
class Rule:
    to: Status
    by: frozenset[Side]


_CUSTOMER = frozenset({Side.CUSTOMER})
_SUPPLIER = frozenset({Side.SUPPLIER})
_SYSTEM = frozenset({Side.SYSTEM})
_EITHER = frozenset({Side.CUSTOMER, Side.SUPPLIER})
_OPEN = (None, Status.REJECTED, Status.CANCELLED, Status.EXPIRED, Status.DISCONNECTED)

# (action, current status or None when no connection exists yet) -> the rule.
TRANSITIONS: Mapping[tuple[Action, Status | None], Rule] = MappingProxyType({
    **{(Action.INVITE, s): Rule(Status.INVITED, _CUSTOMER) for s in _OPEN},
    **{(Action.REQUEST, s): Rule(Status.REQUESTED, _SUPPLIER) for s in _OPEN},
    (Action.ACCEPT, Status.INVITED): Rule(Status.CONNECTED, _SUPPLIER),
    (Action.APPROVE, Status.REQUESTED): Rule(Status.CONNECTED, _CUSTOMER),
    (Action.DECLINE, Status.INVITED): Rule(Status.REJECTED, _SUPPLIER),
    (Action.DENY, Status.REQUESTED): Rule(Status.REJECTED, _CUSTOMER),
    (Action.CANCEL, Status.INVITED): Rule(Status.CANCELLED, _CUSTOMER),
    (Action.CANCEL, Status.REQUESTED): Rule(Status.CANCELLED, _SUPPLIER),
    (Action.EXPIRE, Status.INVITED): Rule(Status.EXPIRED, _SYSTEM),
    (Action.EXPIRE, Status.REQUESTED): Rule(Status.EXPIRED, _SYSTEM),
    (Action.DISCONNECT, Status.CONNECTED): Rule(Status.DISCONNECTED, _EITHER),
})


def transition(action: Action, current: Status | str | None, by: Side) -> Status:
    """The status after ``action`` by ``by`` from ``current``; raises if the table does not allow it."""
    status = Status(current) if current is not None else None
    rule = TRANSITIONS.get((action, status))
    if rule is None:
        raise InvalidTransition(status=STATUS_LABELS[status], action=ACTION_LABELS[action])
    if by not in rule.by:
        raise NotAllowed(N_("Only the {side} side can do this."), side=SIDE_LABELS[min(rule.by)])
    return rule.to

STATUS_LABELS: Mapping[Status | None, Label] = MappingProxyType({
    None: Label(N_("not connected")),
    Status.INVITED: Label(N_("invited")),
    Status.REQUESTED: Label(N_("requested")),
    Status.CONNECTED: Label(N_("connected")),
    Status.REJECTED: Label(N_("rejected")),
    Status.CANCELLED: Label(N_("cancelled")),
    Status.EXPIRED: Label(N_("expired")),
    Status.DISCONNECTED: Label(N_("disconnected")),
})

ACTION_LABELS: Mapping[Action, Label] = MappingProxyType({
    Action.INVITE: Label(N_("invite")),
    Action.REQUEST: Label(N_("request")),
    Action.ACCEPT: Label(N_("accept")),
    Action.APPROVE: Label(N_("approve")),
    Action.DECLINE: Label(N_("decline")),
    Action.DENY: Label(N_("deny")),
    Action.CANCEL: Label(N_("cancel")),
    Action.EXPIRE: Label(N_("expire")),
    Action.DISCONNECT: Label(N_("disconnect")),
})

SIDE_LABELS: Mapping[Side, Label] = MappingProxyType({
    Side.CUSTOMER: Label(N_("customer")),
    Side.SUPPLIER: Label(N_("supplier")),
    Side.SYSTEM: Label(N_("system")),
})
