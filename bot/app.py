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
from typing import Any, cast

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.oauth.installation_store import InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from tautan.bot import actions, commands, home, modal, notify, profile
from tautan.bot.context import Deps, Listeners, Who, language, on_error
from tautan.bot.ports import USER_INFO_TTL, User, Workspace
from tautan.core import services
from tautan.core.errors import UserError
from tautan.core.i18n import normalize_locale, translator
from tautan.core.model import Role

__all__ = ["SCOPES", "Deps", "Who", "build_app", "on_error", "resolve"]

log = logging.getLogger(__name__)

# What the bot asks for at install; slack/manifest.yml says the same (a test compares both with the
# Web API methods the code calls). Direct messages to admins go to the app's Messages tab: no im:write.
SCOPES = ["commands", "chat:write", "chat:write.public", "users:read", "team:read", "channels:read", "groups:read",
          "files:write"]
SURFACES = (commands, modal, actions, home, notify, profile)


def build_app(deps: Deps, *, signing_secret: str, bot_token: str | None = None, client_id: str | None = None,
              client_secret: str | None = None, api_url: str | None = None,
              installation_store: InstallationStore | None = None,
              state_store: OAuthStateStore | None = None) -> App:
    """The Bolt app for one workspace (``bot_token``) or many (``client_id``/``client_secret``, with
    the installation and OAuth state stores the composition root built)."""
    base_url = api_url.rstrip("/") + "/" if api_url else WebClient.BASE_URL
    # What a person waits for (views.open/publish, chat.postEphemeral, respond) runs after the ack:
    # a rate limit there is waited out (Slack's Retry-After) and tried again. The notifier has its
    # own client, without it: it puts a notice back in the outbox instead of waiting.
    client = WebClient(token=bot_token, base_url=base_url,
                       retry_handlers=[ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=2)])
    if client_id and client_secret and installation_store is not None and state_store is not None:
        app = App(signing_secret=signing_secret, client=client, oauth_settings=OAuthSettings(
            client_id=client_id, client_secret=client_secret, scopes=SCOPES,
            installation_store=installation_store, state_store=state_store,
            install_path="/slack/install", redirect_uri_path="/slack/oauth_redirect",
            callback_options=CallbackOptions(success=_installed(deps), failure=_install_failed)))
    else:
        # the client carries the bot token (and the Web API address)
        app = App(signing_secret=signing_secret, client=client, token_verification_enabled=False)

    app.use(_once(deps))
    if app.installation_store is None:
        app.use(_only_our_workspace(client))
    app.use(_who(deps))
    app.error(on_error)

    for surface in SURFACES:
        surface.register(cast(App, Listeners(app)), deps)
    if app.installation_store is not None:  # an uninstall or revoked tokens remove the stored tokens
        app.enable_token_revocation_listeners()
    else:  # one workspace: its token is the app's own, so there is nothing to delete but the channel
        _register_uninstall(cast(App, Listeners(app)), deps)
    return app


def retry_number(headers: dict[str, Any]) -> int:
    """Which delivery of an event this is: 0 for the first. Socket Mode says ``retry_attempt: 0``
    on a first delivery, which Bolt passes on as ``x-slack-retry-num: ["0"]``: only a number
    above 0 is a retry."""
    value = headers.get("x-slack-retry-num")
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    try:
        return max(0, int(str(value)))
    except ValueError:
        return 0


def _once(deps: Deps) -> Callable[..., BoltResponse]:
    def middleware(request: BoltRequest, body: dict[str, Any],
                   next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
        """Each event is acted on once, however often Slack delivers it: Slack retries an event it
        thinks we missed (and Socket Mode may deliver one twice); by its ``event_id`` we know."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not isinstance(event_id, str) or not event_id:
            return next()
        if not deps.store.first_delivery(event_id, team_id=body.get("team_id"), now=deps.clock()):
            log.info("slack: event delivered again (retry %s); already handled", retry_number(request.headers))
            return BoltResponse(status=200, body="", headers={"X-Slack-No-Retry": "1"})
        try:
            response = next()
        except Exception:
            deps.store.forget_delivery(event_id)  # not handled: a retry of it must be
            raise
        if response is not None and response.status >= 500:
            deps.store.forget_delivery(event_id)
        return response

    return middleware


def _only_our_workspace(client: WebClient) -> Callable[..., BoltResponse]:
    """With one bot token the app serves that token's workspace (or its Grid organisation) only:
    a signed request from another team is refused, never bound to a company of its own."""
    ours: dict[str, str | None] = {}

    def middleware(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
        team_id = context.team_id
        if not team_id:
            return next()
        if not ours:
            try:
                answer = client.auth_test()
            except SlackApiError as error:
                log.warning("slack: auth.test failed: %s", error.response.get("error"))
                return BoltResponse(status=200, body="")
            ours.update(team_id=answer.get("team_id"), enterprise_id=answer.get("enterprise_id"))
        if team_id == ours.get("team_id") or (ours.get("enterprise_id")
                                              and context.enterprise_id == ours.get("enterprise_id")):
            return next()
        log.warning("slack: refused a request from a workspace this app does not serve")
        return BoltResponse(status=200, body="")

    return middleware


def _register_uninstall(app: App, deps: Deps) -> None:
    def uninstalled(context: BoltContext, event: dict[str, Any]) -> None:
        if event.get("type") == "tokens_revoked" and not (event.get("tokens") or {}).get("bot"):
            return  # only user tokens: the bot still works
        workspace = deps.store.workspace(context.team_id or "")
        if workspace is not None:  # no channel: no notice tries to reach a workspace we cannot post to
            deps.store.set_channel(workspace.id, None)
        log.warning("slack: the app was uninstalled from a workspace, or its bot token revoked")

    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(uninstalled)


def _who(deps: Deps) -> Callable[..., BoltResponse]:
    def middleware(context: BoltContext, client: WebClient, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
        team_id, user_id = context.team_id, context.user_id
        if team_id and user_id:
            workspace = deps.store.workspace(team_id) or _bind(deps, client, team_id, installer=None,
                                                                enterprise_id=context.enterprise_id)
            if context.enterprise_id and workspace.enterprise_id != context.enterprise_id:
                deps.store.set_enterprise(workspace.id, context.enterprise_id)
                workspace = deps.store.workspace(team_id) or workspace
            context["who"] = resolve(deps, client, workspace, user_id)
        return next()

    return middleware


def resolve(deps: Deps, client: WebClient, workspace: Workspace, user_id: str) -> Who:
    """The user's language (see ``language``) and rights, from users.info asked once a day. Outside
    (Slack Connect) users and guests are never admins."""
    user = deps.store.user(workspace.id, user_id)
    now = deps.clock()
    if user is None or user.checked_at is None or now - user.checked_at > USER_INFO_TTL:
        user = _refresh(deps, client, workspace, user_id, now) or user
    is_admin = bool(user and (user.granted_admin or user.slack_admin)) or user_id == workspace.installer_user_id
    if user is not None and user.outsider:
        is_admin = False
    return Who(workspace=workspace, user_id=user_id, locale=language(workspace, user), is_admin=is_admin,
               chose_language=bool(user and user.lang_override))


def is_outsider(info: dict[str, Any], workspace: Workspace) -> bool:
    """A user of another organisation (Slack Connect) or a guest, as users.info describes them."""
    if info.get("is_stranger") or info.get("is_restricted") or info.get("is_ultra_restricted"):
        return True
    home_teams = {workspace.team_id, *([workspace.enterprise_id] if workspace.enterprise_id else [])}
    enterprise = (info.get("enterprise_user") or {}).get("enterprise_id")
    team_id = info.get("team_id")
    return not (team_id in home_teams or (enterprise is not None and enterprise == workspace.enterprise_id))


def _refresh(deps: Deps, client: WebClient, workspace: Workspace, user_id: str, now: dt.datetime) -> User | None:
    try:
        info = client.users_info(user=user_id, include_locale=True)["user"]
    except SlackApiError as error:
        log.warning("users.info failed for a user of %s: %s", workspace.team_id, error.response.get("error"))
        return None
    outsider = is_outsider(info, workspace)
    slack_admin = not outsider and bool(info.get("is_admin") or info.get("is_owner") or info.get("is_primary_owner"))
    tz = info.get("tz") if isinstance(info.get("tz"), str) else None
    return deps.store.save_user(workspace.id, user_id, slack_locale=normalize_locale(info.get("locale"), ""),
                                slack_admin=slack_admin, outsider=outsider, slack_tz=(tz or "")[:64] or None,
                                checked_at=now)


def _bind(deps: Deps, client: WebClient, team_id: str, *, installer: str | None, name: str | None = None,
          enterprise_id: str | None = None) -> Workspace:
    """A workspace we have not seen: bind it to a customer company of its own, named after it."""
    if name is None:
        try:
            name = client.team_info(team=team_id)["team"]["name"]
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
                           installer_user_id=installer, now=deps.clock(), enterprise_id=enterprise_id)


def _installed(deps: Deps) -> Callable[[SuccessArgs], BoltResponse]:
    def success(args: SuccessArgs) -> BoltResponse:
        installation = args.installation
        team_id = installation.team_id
        # An organisation-wide (Grid) install has no one workspace: each is bound on its first request.
        if team_id and not installation.is_enterprise_install:
            workspace = deps.store.workspace(team_id)
            if workspace is None:
                client = WebClient(token=installation.bot_token, base_url=args.request.context.client.base_url
                                   if args.request.context.client else WebClient.BASE_URL)
                workspace = _bind(deps, client, team_id, installer=installation.user_id,
                                  name=installation.team_name, enterprise_id=installation.enterprise_id)
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
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'><title>{escape(title)}</title></head>"
            f"<body style='font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em'>"
            f"<h1>{escape(title)}</h1><p>{escape(text)}</p></body></html>")
