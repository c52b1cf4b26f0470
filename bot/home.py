"""The App Home tab: the dashboard of the workspace's customer company.

Counts by status (the company and its units together), the supplier requests waiting for an
answer with Approve/Deny buttons, the invited, the connected and the problems (each section with
Previous / Next when it has more than a page), the recent activity, and an "Invite suppliers"
button. Shown in the reader's language, and only ever the data of the company the workspace is
bound to.
Admins get the buttons; everyone else sees the same figures and a word on who can act.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from tautan.bot import messages as m
from tautan.bot.context import Deps, Who
from tautan.core.errors import NotAllowed
from tautan.core.i18n import SUPPORTED_LOCALES


def register(app: App, deps: Deps) -> None:
    """The Home tab, and the button on it that opens the invite modal."""

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        who: Who | None = context.get("who")
        if who is None or event.get("tab", "home") != "home":
            return
        m.publish_home(client, who, deps)

    @app.action(m.INVITE_ACTION)
    def open_invite(ack: Any, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        who: Who = context["who"]
        if not who.is_admin:  # a Home tab from before the user lost the right: show the current one
            m.publish_home(client, who, deps)
            return
        m.open_invite_modal(deps, who, client, trigger_id=body["trigger_id"])

    def page(ack: Any, action: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """Previous / Next of a section: the Home tab again, that section at the page in the button."""
        ack()
        m.publish_home(client, context["who"], deps, pages=m.read_home_pages(action.get("value") or ""))

    app.action(m.HOME_PAGE_PREV)(page)
    app.action(m.HOME_PAGE_NEXT)(page)

    @app.action(m.SET_LANGUAGE_ACTION)
    def set_language(ack: Any, action: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        who: Who = context["who"]
        locale = action.get("value")
        if locale not in SUPPORTED_LOCALES:
            return
        deps.store.save_user(who.workspace.id, who.user_id, lang_override=locale)
        m.publish_home(client, dataclasses.replace(who, locale=locale, chose_language=True), deps)

    @app.action(m.CHOOSE_CHANNEL_ACTION)
    def choose_channel(ack: Any, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        who: Who = context["who"]
        who.require_admin()
        client.views_open(trigger_id=body["trigger_id"], view=m.channel_view(who.t))

    @app.view(m.CHANNEL_CALLBACK_ID)
    def channel_chosen(ack: Any, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        who: Who = context["who"]
        try:
            who.require_admin()
        except NotAllowed as refusal:
            ack(response_action="errors", errors={m.CHANNEL_BLOCK: who.t.error(refusal)})
            return
        chosen = ((view.get("state", {}).get("values", {}).get(m.CHANNEL_BLOCK) or {}).get(m.VALUE) or {})
        channel_id = chosen.get("selected_conversation") or ""
        problem = m.use_channel(deps, who, client, channel_id) if channel_id else who.t("Choose a channel.")
        if problem is not None:
            ack(response_action="errors", errors={m.CHANNEL_BLOCK: problem})
            return
        ack()
        workspace = deps.store.workspace(who.workspace.team_id) or who.workspace
        m.publish_home(client, dataclasses.replace(who, workspace=workspace), deps)

