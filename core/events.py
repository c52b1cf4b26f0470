"""The names the engine writes into its rows: what happened (``EventKind``), through what
(``Via``), and which outbox a message goes to (``Channel``). They are string enums, so the
stored values stay plain strings; a name that is not here is refused when it is written, instead
of being stored and silently missing a label or a notice."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

from tautan.core.transitions import Action


class EventKind(enum.StrEnum):
    COMPANY_CREATED = "company_created"
    UNIT_CREATED = "unit_created"
    COMPANY_LANGUAGE = "company_language"
    INVITED = "invited"
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    APPROVED = "approved"
    DECLINED = "declined"
    DENIED = "denied"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    DISCONNECTED = "disconnected"
    RESENT = "resent"
    REMINDED = "reminded"
    BOUNCED = "bounced"
    RENEWAL_REQUESTED = "renewal_requested"
    UNSUBSCRIBED = "unsubscribed"
    # The supplier page
    SIGNED_IN = "signed_in"
    WITHDRAWN = "withdrawn"
    CONTACT_ADDED = "contact_added"
    CONTACT_REMOVED = "contact_removed"
    REQUEST_REMINDED = "request_reminded"
    # Reading a supplier's email reply (mail/understand): what was read, a confirmation question
    # sent instead of acting, and the supplier's answer to that question.
    REPLY_READ = "reply_read"
    CONFIRMATION_ASKED = "confirmation_asked"
    CONFIRMATION_ANSWERED = "confirmation_answered"
    # Supplier sign-up and identity
    SUPPLIER_IDENTITY = "supplier_identity"
    POSSIBLE_DUPLICATE = "possible_duplicate"
    COMPANY_PROFILE = "company_profile"


class Via(enum.StrEnum):
    """Through what a change was made."""

    CLI = "cli"
    SLACK = "slack"
    EMAIL = "email"
    LINK = "link"
    SYSTEM = "system"


class Channel(enum.StrEnum):
    """The outbox a message waits in: the worker delivers each channel its own way."""

    EMAIL = "email"
    SLACK = "slack"


# The event each action of the transition table writes.
EVENT_OF_ACTION: Mapping[Action, EventKind] = MappingProxyType({
    Action.INVITE: EventKind.INVITED,
    Action.REQUEST: EventKind.REQUESTED,
    Action.ACCEPT: EventKind.ACCEPTED,
    Action.APPROVE: EventKind.APPROVED,
    Action.DECLINE: EventKind.DECLINED,
    Action.DENY: EventKind.DENIED,
    Action.CANCEL: EventKind.CANCELLED,
    Action.EXPIRE: EventKind.EXPIRED,
    Action.DISCONNECT: EventKind.DISCONNECTED,
})

# Events the customer's team hears about (a Slack channel notice), one notice per change.
NOTIFY: frozenset[EventKind] = frozenset({
    EventKind.ACCEPTED, EventKind.DECLINED, EventKind.BOUNCED, EventKind.EXPIRED, EventKind.REQUESTED,
    EventKind.RENEWAL_REQUESTED, EventKind.WITHDRAWN, EventKind.DISCONNECTED, EventKind.POSSIBLE_DUPLICATE,
})
