"""The App Home tab: the dashboard of the workspace's customer company.

Counts by status (the company and its units together), the supplier requests waiting for an
answer with Approve/Deny buttons, the recent activity, and an "Invite suppliers" button. Shown
in the reader's language, and only ever the data of the company the workspace is bound to.
Admins get the buttons; everyone else sees the same figures and a word on who can act.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from tautan.bot import messages as m
from tautan.bot.context import Deps, Who


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
