"""The Slack app: one factory builds the Bolt app, one module per surface registers on it.

Every request passes one middleware that says who is asking (``context["who"]``): the workspace
and the customer company it is bound to, the user, their language and whether they are an admin.
Every listener acts only for that company, so one workspace never sees another's data. One error
handler turns user errors into a localized ephemeral message and logs the rest.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from tautan.bot.store import BOTS, INSTALLATIONS, OAUTH_STATES, USER_INFO_TTL, SlackStore, User, Workspace
from tautan.core import services
from tautan.core.errors import NotAllowed, TautanError, UserError
from tautan.core.i18n import N_, Translator, normalize_locale, translator
from tautan.core.model import Role
from tautan.core.uow import Clock, UnitOfWork

log = logging.getLogger(__name__)

SCOPES = ["commands", "chat:write", "chat:write.public", "users:read", "im:write"]


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
    store: SlackStore
    clock: Clock
    public_base_url: str
    secret_keys: tuple[str, ...]
    default_locale: str = "en"
    mail_domain: str = "localhost"


def build_app(deps: Deps, *, signing_secret: str, bot_token: str | None = None, client_id: str | None = None,
              client_secret: str | None = None, api_url: str | None = None, engine: Any = None) -> App:
    """The Bolt app for one workspace (``bot_token``) or many (``client_id``/``client_secret``, with
    installations kept in our database)."""
    base_url = api_url.rstrip("/") + "/" if api_url else WebClient.BASE_URL
    client = WebClient(token=bot_token, base_url=base_url)
    if client_id and client_secret:
        installation_store = SQLAlchemyInstallationStore(
            client_id=client_id, engine=engine, bots_table_name=BOTS, installations_table_name=INSTALLATIONS)
        state_store = SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine, table_name=OAUTH_STATES)
        app = App(signing_secret=signing_secret, client=client, oauth_settings=OAuthSettings(
            client_id=client_id, client_secret=client_secret, scopes=SCOPES,
            installation_store=installation_store, state_store=state_store,
            install_path="/slack/install", redirect_uri_path="/slack/oauth_redirect",
            callback_options=CallbackOptions(success=_installed(deps), failure=_install_failed)))
    else:
        # the client carries the bot token (and the Web API address)
        app = App(signing_secret=signing_secret, client=client, token_verification_enabled=False)

    app.use(_ignore_retries)
    app.use(_who(deps))
    app.error(on_error)

    from tautan.bot import actions, commands, home, modal, notify, profile

    for surface in (commands, modal, actions, home, notify, profile):
        surface.register(app, deps)
    if app.installation_store is not None:  # an uninstall or revoked tokens remove the stored tokens
        app.enable_token_revocation_listeners()
    return app


def _ignore_retries(request: Any, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
    """Slack retries an event it thinks we missed; we already have it, so we never act twice."""
    if request.headers.get("x-slack-retry-num"):
        return BoltResponse(status=200, body="", headers={"X-Slack-No-Retry": "1"})
    return next()


def _who(deps: Deps) -> Callable[..., BoltResponse]:
    def middleware(context: BoltContext, client: WebClient, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
        team_id, user_id = context.team_id, context.user_id
        if team_id and user_id:
            workspace = deps.store.workspace(team_id) or _bind(deps, client, team_id, installer=None)
            context["who"] = resolve(deps, client, workspace, user_id)
        return next()

    return middleware


def resolve(deps: Deps, client: WebClient, workspace: Workspace, user_id: str) -> Who:
    """The user's language (their override, else their Slack locale, asked once a day) and rights."""
    user = deps.store.user(workspace.id, user_id)
    now = deps.clock()
    if user is None or user.checked_at is None or now - user.checked_at > USER_INFO_TTL:
        user = _refresh(deps, client, workspace, user_id, now) or user
    locale = normalize_locale((user.lang_override or user.slack_locale) if user else None, workspace.locale)
    is_admin = bool(user and (user.granted_admin or user.slack_admin)) or user_id == workspace.installer_user_id
    return Who(workspace=workspace, user_id=user_id, locale=locale, is_admin=is_admin)


def _refresh(deps: Deps, client: WebClient, workspace: Workspace, user_id: str, now: dt.datetime) -> User | None:
    try:
        info = client.users_info(user=user_id, include_locale=True)["user"]
    except SlackApiError as error:
        log.warning("users.info failed for a user of %s: %s", workspace.team_id, error.response.get("error"))
        return None
    slack_admin = bool(info.get("is_admin") or info.get("is_owner") or info.get("is_primary_owner"))
    return deps.store.save_user(workspace.id, user_id, slack_locale=normalize_locale(info.get("locale"), ""),
                                slack_admin=slack_admin, checked_at=now)


def _bind(deps: Deps, client: WebClient, team_id: str, *, installer: str | None, name: str | None = None) -> Workspace:
    """A workspace we have not seen: bind it to a customer company of its own, named after it."""
    if name is None:
        try:
            name = client.team_info()["team"]["name"]
        except SlackApiError:
            name = team_id
    company_name = name
    for attempt in range(2, 50):
        try:
            company = services.create_company(deps.uow(), name=company_name, roles=[Role.CUSTOMER],
                                              actor=f"slack:{team_id}/{installer or 'install'}", via="slack")
            break
        except UserError:  # a company of that name exists already: never share it with a stranger
            company_name = f"{name} ({attempt})"
    else:
        raise RuntimeError("could not name a company for the workspace")
    return deps.store.bind(team_id=team_id, name=name, company_id=company.id, locale=deps.default_locale,
                           installer_user_id=installer, now=deps.clock())


def _installed(deps: Deps) -> Callable[[SuccessArgs], BoltResponse]:
    def success(args: SuccessArgs) -> BoltResponse:
        installation = args.installation
        team_id = installation.team_id or ""
        workspace = deps.store.workspace(team_id)
        if workspace is None:
            client = WebClient(token=installation.bot_token, base_url=args.request.context.client.base_url
                               if args.request.context.client else WebClient.BASE_URL)
            workspace = _bind(deps, client, team_id, installer=installation.user_id, name=installation.team_name)
        deps.store.save_user(workspace.id, installation.user_id, granted_admin=True, granted_by="install")
        t = translator(deps.default_locale)
        return BoltResponse(status=200, headers={"Content-Type": "text/html; charset=utf-8"},
                            body=_page(t("Tautan is installed"), t("Type /connect in Slack to begin.")))

    return success


def _install_failed(args: FailureArgs) -> BoltResponse:
    t = translator("en")
    log.warning("slack install failed: %s", args.reason)
    return BoltResponse(status=args.suggested_status_code, headers={"Content-Type": "text/html; charset=utf-8"},
                        body=_page(t("The installation did not finish"), t("Please try again from the start.")))


def _page(title: str, text: str) -> str:
    from html import escape

    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'><title>{escape(title)}</title></head>"
            f"<body style='font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em'>"
            f"<h1>{escape(title)}</h1><p>{escape(text)}</p></body></html>")


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
    except Exception:
        log.warning("slack: could not tell the user about an error")
