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
from html import escape
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from tautan.bot import actions, commands, home, modal, notify
from tautan.bot.context import Deps, Who, on_error
from tautan.bot.ports import USER_INFO_TTL, User, Workspace
from tautan.core import services
from tautan.core.errors import UserError
from tautan.core.i18n import normalize_locale, translator
from tautan.core.model import Role

__all__ = ["SCOPES", "Deps", "Who", "build_app", "on_error", "resolve"]

log = logging.getLogger(__name__)

SCOPES = ["commands", "chat:write", "chat:write.public", "users:read", "im:write"]
SURFACES = (commands, modal, actions, home, notify)


def build_app(deps: Deps, *, signing_secret: str, bot_token: str | None = None, client_id: str | None = None,
              client_secret: str | None = None, api_url: str | None = None,
              installation_store: InstallationStore | None = None,
              state_store: OAuthStateStore | None = None) -> App:
    """The Bolt app for one workspace (``bot_token``) or many (``client_id``/``client_secret``, with
    the installation and OAuth state stores the composition root built)."""
    base_url = api_url.rstrip("/") + "/" if api_url else WebClient.BASE_URL
    client = WebClient(token=bot_token, base_url=base_url)
    if client_id and client_secret and installation_store is not None and state_store is not None:
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

    for surface in SURFACES:
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
                            body=_page(t("tautan is installed"), t("Type /connect in Slack to begin.")))

    return success


def _install_failed(args: FailureArgs) -> BoltResponse:
    t = translator("en")
    log.warning("slack install failed: %s", args.reason)
    return BoltResponse(status=args.suggested_status_code, headers={"Content-Type": "text/html; charset=utf-8"},
                        body=_page(t("The installation did not finish"), t("Please try again from the start.")))


def _page(title: str, text: str) -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'><title>{escape(title)}</title></head>"
            f"<body style='font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em'>"
            f"<h1>{escape(title)}</h1><p>{escape(text)}</p></body></html>")
