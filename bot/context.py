"""What every Slack surface works with: who is asking (``Who``), what the composition root gives
the listeners (``Deps``), and the one table from errors to what a Slack user sees (``on_error``).

Surfaces import this module and ``bot.messages``; they never import each other or ``bot.app``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltContext, Respond
from slack_sdk import WebClient

from tautan.bot.ports import Workspace, WorkspaceStore
from tautan.core.errors import NotAllowed, TautanError, UserError
from tautan.core.i18n import N_, Translator, translator
from tautan.core.uow import Clock, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Who:
    """Who is asking, resolved once per request."""

    workspace: Workspace
    user_id: str
    locale: str
    is_admin: bool

    @property
    def company_id(self) -> int:
        return self.workspace.company_id

    @property
    def actor(self) -> str:
        return f"slack:{self.workspace.team_id}/{self.user_id}"

    @property
    def t(self) -> Translator:
        return translator(self.locale)

    def require_admin(self) -> None:
        if not self.is_admin:
            raise NotAllowed(N_("Only admins of {company} can do this. Ask an admin to add you with /connect admin add."),
                             company=self.workspace.name)


@dataclass
class Deps:
    """What the listeners need from the composition root."""

    uow: Callable[[], UnitOfWork]
    store: WorkspaceStore
    clock: Clock
    public_base_url: str
    secret_keys: tuple[str, ...]
    default_locale: str = "en"


def on_error(error: Exception, context: BoltContext, respond: Any, body: dict[str, Any],
             client: WebClient | None = None) -> None:
    """The one table from errors to what a Slack user sees: an ephemeral answer where Slack gave
    us a response URL, else (an App Home button) a direct message."""
    who: Who | None = context.get("who")
    t = who.t if who else translator("en")
    if isinstance(error, TautanError):
        if not isinstance(error, UserError):
            log.warning("slack: %s", error.__class__.__name__)
        text = t.error(error)
    else:
        log.exception("slack: unexpected error in a listener")
        text = t("Something went wrong on our side. Please try again later.")
    try:
        if respond is not None and (body.get("response_url") or body.get("response_urls")):
            respond(text=text, response_type="ephemeral", replace_original=False)
        elif client is not None and who is not None:
            client.chat_postMessage(channel=who.user_id, text=text)
    except Exception:  # noqa: BLE001 - the user could not be told; the error itself is logged above
        log.warning("slack: could not tell the user about an error")


@contextmanager
def answering_errors(context: BoltContext, respond: Respond | None, body: dict[str, Any]) -> Iterator[None]:
    """Errors raised after ``ack()`` are answered here, through the one error table, instead of
    being raised back to Bolt: slack-bolt 1.30's thread runner sets ``ack.response`` back to None
    when a listener raises after acknowledging, so a quick user error could make Bolt answer Slack
    with a 404 (``dispatch_failed`` for the user)."""
    try:
        yield
    except Exception as error:  # every error is answered by the one handler; it logs the unexpected ones
        on_error(error, context, respond, body, context.client)
