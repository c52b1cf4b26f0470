"""One function per use case. Every driver (CLI, email, links, Slack) calls these the same way,
naming the actor (``slack:T1/U2``, ``email:ana@pt-maju.co.id``, ``cli:operator``, ``system``) and
the channel (``via``). Each runs in one unit of work and writes its events in the same commit; each
returns plain views (``tautan.core.views``) so the adapter has what it needs to answer after the
session is closed.

The use cases live by area — ``companies``, ``invitations``, ``requests`` (supplier requests and
connection-level actions), ``replies`` (what the email assistant needs) and ``reading`` — and are
re-exported here, so a driver writes ``services.invite(uow, ...)``.
"""

from tautan.core.services._base import (
    INVITATION_TTL,
    MAX_MESSAGE_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PER_PAGE,
    REMINDERS,
    RENEWAL_REQUEST_INTERVAL,
    REQUEST_TTL,
    VIAS,
    CompanyRef,
    new_reply_token,
    normalize_email,
)
from tautan.core.services.companies import (
    create_company,
    get_company,
    get_company_by_slug,
    set_company_locale,
)
from tautan.core.services.invitations import (
    accept,
    cancel,
    decline,
    expire,
    get_invitation,
    InviteRow,
    Invited,
    invite,
    invite_many,
    mark_undeliverable,
    record_undeliverable,
    remind,
    request_renewal,
    resend,
    unsubscribe,
)
from tautan.core.services.reading import history, search
from tautan.core.services.replies import answer, connections_of
from tautan.core.services.requests import (
    approve,
    cancel_request,
    deny,
    disconnect,
    request,
    request_by_email,
)

__all__ = [
    "INVITATION_TTL", "MAX_MESSAGE_LENGTH", "MAX_NAME_LENGTH", "MAX_PER_PAGE", "REMINDERS", "RENEWAL_REQUEST_INTERVAL",
    "REQUEST_TTL", "VIAS", "CompanyRef", "InviteRow", "Invited", "accept", "answer", "approve", "cancel",
    "cancel_request", "connections_of",
    "create_company", "decline", "deny", "disconnect", "expire", "get_company", "get_company_by_slug",
    "get_invitation", "history", "invite", "invite_many", "mark_undeliverable", "new_reply_token", "normalize_email",
    "record_undeliverable", "remind", "request", "request_by_email", "request_renewal", "resend", "search",
    "set_company_locale", "unsubscribe",
]
