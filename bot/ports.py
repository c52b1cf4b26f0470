"""What the Slack adapter needs from the composition root, described here and built there.

The root keeps the workspaces (which customer company each Slack workspace acts for, its notice
channel, per user the language and the admin grant) in its database; the bot only sees this
``WorkspaceStore`` and the plain records it hands back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

# What users.info told us is trusted for a day; then we ask Slack again.
USER_INFO_TTL = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Workspace:
    id: int
    team_id: str
    name: str
    company_id: int
    channel_id: str | None
    locale: str
    installer_user_id: str | None
    enterprise_id: str | None = None
    locale_chosen: bool = False  # the company's language was chosen (/connect lang company)
    channel_error: str | None = None  # why posting in the channel fails for good, if it does


@dataclass(frozen=True)
class User:
    workspace_id: int
    user_id: str
    granted_admin: bool
    lang_override: str | None
    slack_locale: str | None
    slack_admin: bool | None
    checked_at: dt.datetime | None
    slack_tz: str | None = None
    outsider: bool = False  # a Slack Connect user of another organisation, or a guest


class WorkspaceStore(Protocol):
    """The workspaces and their people, as the listeners and the notifier read and change them."""

    def workspace(self, team_id: str) -> Workspace | None: ...

    def workspaces_of(self, company_id: int) -> list[Workspace]: ...

    def bind(self, *, team_id: str, name: str, company_id: int, locale: str, installer_user_id: str | None,
             now: dt.datetime, enterprise_id: str | None = None) -> Workspace: ...

    def set_enterprise(self, workspace_id: int, enterprise_id: str | None) -> None: ...

    def set_channel(self, workspace_id: int, channel_id: str | None) -> None: ...

    def channel_broken(self, workspace_id: int, channel_id: str, error: str) -> bool:
        """Note that posting in the channel fails for good; True the first time (tell the admins then)."""
        ...

    def channel_works(self, workspace_id: int, channel_id: str) -> None: ...

    def set_locale(self, workspace_id: int, locale: str) -> None: ...

    def user(self, workspace_id: int, user_id: str) -> User | None: ...

    def save_user(self, workspace_id: int, user_id: str, **values: object) -> User: ...

    def admins(self, workspace_id: int) -> list[str]: ...

    def admin_users(self, workspace_id: int) -> list[str]:
        """Everyone who is an admin here: granted, or a Slack admin; never an outsider."""
        ...

    def first_delivery(self, event_id: str, *, team_id: str | None, now: dt.datetime) -> bool:
        """Note an event Slack delivered; False when it was noted before (a retry of one we have)."""
        ...

    def forget_delivery(self, event_id: str) -> None:
        """The event could not be handled: a retry of it will be."""
        ...
