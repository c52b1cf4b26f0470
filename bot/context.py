"""What every Slack surface works with: who is asking (``Who``), what the composition root gives
the listeners (``Deps``), and the one table from errors to what a Slack user sees (``on_error``).

Surfaces import this module and ``bot.messages``; they never import each other or ``bot.app``.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from tautan.bot.ports import User, Workspace, WorkspaceStore
from tautan.core.errors import NotAllowed, TautanError, UserError
from tautan.core.i18n import N_, SUPPORTED_LOCALES, Translator, normalize_locale, translator
from tautan.core.uow import Clock, UnitOfWork

log = logging.getLogger(__name__)


# Slack's own interface has no Indonesian, so its locale never says "id": where nobody chose a
# language, a time zone of Indonesia is the best guess there is.
INDONESIAN_TIME_ZONES = frozenset({"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "Asia/Pontianak"})


def language(workspace: Workspace, user: User | None) -> str:
    """The language a person reads, in this order: their own choice (``/connect lang``), the
    company's language when it was chosen (``/connect lang company``), their Slack locale when it
    is a language we have, a guess from their time zone, and last the workspace's default."""
    if user is not None and user.lang_override in SUPPORTED_LOCALES:
        return user.lang_override
    if workspace.locale_chosen and workspace.locale in SUPPORTED_LOCALES:
        return workspace.locale
    slack_locale = normalize_locale(user.slack_locale if user else None, "")
    if slack_locale in SUPPORTED_LOCALES:
        return slack_locale
    if user is not None and user.slack_tz in INDONESIAN_TIME_ZONES:
        return "id"
    return normalize_locale(workspace.locale, "en")


@dataclass(frozen=True)
class Who:
    """Who is asking, resolved once per request."""

    workspace: Workspace
    user_id: str
    locale: str
    is_admin: bool
    chose_language: bool = True  # False: App Home offers to choose once

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
            raise NotAllowed(N_("Only admins of {company} can do this. Ask an admin to add you with "
                                "/connect admin add."),
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
    mail_domain: str = "localhost"


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


LISTENER_KINDS = frozenset({"command", "action", "view", "event", "shortcut", "options"})


def answering(listener: Callable[..., Any], *, kind: str = "") -> Callable[..., Any]:
    """The listener, with every error it raises (before or after ``ack()``) answered through
    ``on_error`` instead of raised back to Bolt: slack-bolt 1.30's thread runner sets
    ``ack.response`` back to None when a listener raises after acknowledging, so a user error
    would make Bolt answer Slack with a 404 (``dispatch_failed`` for the user). A listener that
    raised before acknowledging is acknowledged here; a type-ahead (``options``) with no options."""
    names = inspect.getfullargspec(listener).args
    if "context" not in names:
        raise TypeError(f"{listener.__name__} must take the context: its errors are answered through it")

    @functools.wraps(listener)  # Bolt reads the wrapped listener's arguments and passes those
    def guarded(**kwargs: Any) -> Any:
        context: BoltContext = kwargs["context"]
        try:
            return listener(**kwargs)
        except Exception as error:  # noqa: BLE001 - every error is answered by the one handler; it logs the unexpected ones
            ack = context.ack
            body = kwargs.get("body") or {"response_url": context.response_url}
            if kind == "options":
                # A type-ahead asks on every key pressed: it gets no options, and nobody gets a
                # message per key (a refused user never had the form in the first place).
                if ack is not None and ack.response is None:
                    ack(options=[])
                if isinstance(error, UserError):
                    log.info("slack: no options for a type-ahead: %s", error.__class__.__name__)
                else:
                    log.exception("slack: unexpected error in a type-ahead")
                return None
            if ack is not None and ack.response is None:
                ack()
            on_error(error, context, context.respond, body, context.client)
            return None

    return guarded


class Listeners:
    """The Bolt app as the surfaces see it in ``register``: every listener they attach is
    ``answering`` (one place, instead of a try/except in each); anything else is the app's."""

    def __init__(self, app: App) -> None:
        self._app = app

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._app, name)
        if name not in LISTENER_KINDS:
            return attribute

        def register(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
            decorator = attribute(*args, **kwargs)
            return lambda listener: decorator(answering(listener, kind=name))

        return register
