"""Errors of the connection engine.

User errors are mistakes or conflicts a person can act on: each carries a message id (an English
gettext msgid, translated at the edge) and the parameters to fill into it. Every adapter keeps one
table from these to what its user sees. System errors are everything else: they are logged, with
context, and the user gets a generic apology.
"""

from __future__ import annotations

from typing import Any

from tautan.core.i18n import N_


class TautanError(Exception):
    """Base of everything the engine raises on purpose; carries a message id and parameters."""

    message_id: str = N_("Something went wrong on our side. Please try again later.")

    def __init__(self, message_id: str | None = None, **params: Any) -> None:
        if message_id is not None:
            self.message_id = message_id
        self.params = params
        super().__init__(self.message_id.format(**params) if params else self.message_id)


class UserError(TautanError):
    message_id = N_("Something in the request is not right.")


class NotFound(UserError):
    message_id = N_("Not found.")


class NotAllowed(UserError):
    message_id = N_("You are not allowed to do this.")


class InvalidInput(UserError):
    message_id = N_("The input is not valid.")


class InvalidTransition(UserError):
    message_id = N_("You cannot {action} a connection that is {status}.")


class AlreadyConnected(UserError):
    message_id = N_("{supplier} is already connected to {customer} for {types}.")


class AlreadyRequested(UserError):
    message_id = N_("{supplier} has already asked to connect for {types}. Approve the request instead.")


class Suppressed(UserError):
    message_id = N_("{email} has asked not to receive invitations from {customer}.")


class InvitationExpired(UserError):
    message_id = N_("This invitation expired on {expired_at}.")


class InvitationClosed(UserError):
    message_id = N_("This invitation is already closed: {status}.")


class LinkExpired(UserError):
    message_id = N_("This link has expired.")


class LinkUsed(UserError):
    message_id = N_("This link has already been used.")


class TooManyRequests(UserError):
    message_id = N_("Too many attempts. Please wait a few minutes and try again.")


class LastContact(NotAllowed):
    message_id = N_("{email} is the last contact of {supplier} and cannot be removed.")


class ConcurrentChange(UserError):
    message_id = N_("Someone else changed this at the same moment. Please look again and retry.")


class Unavailable(TautanError):
    """A system error the user cannot fix: the database is down or unreachable."""

    message_id = N_("The service is temporarily unavailable. Please try again in a few minutes.")
