"""What the Slack adapter keeps: which customer company each workspace is bound to, its
notification channel, and per user the language and the admin grant. Also the tables of
slack_sdk's installation and OAuth-state stores, so Alembic manages them with the rest.

These tables belong to the Slack side, not to the engine (``core`` never hears of Slack); they
live here, in the composition root, so that the bot itself never touches the database: it sees
``tautan.bot.ports.WorkspaceStore``, which ``SlackStore`` implements.
"""

from __future__ import annotations

import datetime as dt

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    delete,
    false,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from tautan.bot.ports import User, Workspace
from tautan.core.model import NAMING, UTCDateTime

metadata = MetaData(naming_convention=NAMING)

workspaces = Table(
    "workspaces", metadata,
    Column("id", Integer, primary_key=True),
    Column("team_id", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    # The customer company this workspace acts for; every query from Slack is scoped to it.
    Column("company_id", Integer, ForeignKey("companies.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("channel_id", String(32)),
    Column("locale", String(8), nullable=False),
    Column("installer_user_id", String(32)),
    Column("created_at", UTCDateTime(), nullable=False),
    # The Enterprise Grid organisation, if any: its bot token may be the organisation's.
    Column("enterprise_id", String(32)),
    # Someone chose the company's language (/connect lang company): it comes before Slack's locale.
    Column("locale_chosen", Boolean, nullable=False, default=False, server_default=false()),
    # Slack's answer when posting in the channel failed for good (not_in_channel, is_archived, ...).
    Column("channel_error", String(64)),
)

workspace_users = Table(
    "workspace_users", metadata,
    Column("id", Integer, primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(32), nullable=False),
    Column("granted_admin", Boolean, nullable=False, default=False),
    Column("granted_by", String(32)),
    Column("lang_override", String(8)),
    Column("slack_locale", String(8)),
    Column("slack_admin", Boolean),
    Column("checked_at", UTCDateTime()),
    Column("slack_tz", String(64)),
    # A Slack Connect user of another organisation, or a guest: never an admin, whatever was granted.
    Column("outsider", Boolean, nullable=False, default=False, server_default=false()),
    UniqueConstraint("workspace_id", "user_id"),
)

# Events Slack delivered, for a while: a retried event (same event_id) is acted on once.
slack_events = Table(
    "slack_events", metadata,
    Column("event_id", String(64), primary_key=True),
    Column("team_id", String(32)),
    Column("received_at", UTCDateTime(), nullable=False, index=True),
)
EVENTS_KEPT = dt.timedelta(hours=1)  # Slack retries for a few minutes; an hour is plenty

INSTALLATIONS, BOTS, OAUTH_STATES = "slack_installations", "slack_bots", "slack_oauth_states"
SQLAlchemyInstallationStore.build_installations_table(metadata, INSTALLATIONS)
SQLAlchemyInstallationStore.build_bots_table(metadata, BOTS)
SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, OAUTH_STATES)


class SlackStore:
    """The workspaces and their people in our database (``tautan.bot.ports.WorkspaceStore``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def workspace(self, team_id: str) -> Workspace | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(workspaces).where(workspaces.c.team_id == team_id)).mappings().first()
        return _workspace(row) if row else None

    def workspaces_of(self, company_id: int) -> list[Workspace]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(workspaces).where(workspaces.c.company_id == company_id)).mappings()
            return [_workspace(r) for r in rows]

    def bind(self, *, team_id: str, name: str, company_id: int, locale: str, installer_user_id: str | None,
             now: dt.datetime, enterprise_id: str | None = None) -> Workspace:
        with self.engine.begin() as connection:
            connection.execute(insert(workspaces).values(
                team_id=team_id, name=name[:200], company_id=company_id, locale=locale,
                installer_user_id=installer_user_id, created_at=now, enterprise_id=enterprise_id))
        bound = self.workspace(team_id)
        assert bound is not None
        return bound

    def set_enterprise(self, workspace_id: int, enterprise_id: str | None) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(workspaces).where(workspaces.c.id == workspace_id)
                               .values(enterprise_id=enterprise_id))

    def set_channel(self, workspace_id: int, channel_id: str | None) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(workspaces).where(workspaces.c.id == workspace_id)
                               .values(channel_id=channel_id, channel_error=None))

    def channel_broken(self, workspace_id: int, channel_id: str, error: str) -> bool:
        """Note that posting in the channel fails for good; True the first time (tell the admins then)."""
        with self.engine.begin() as connection:
            changed = connection.execute(update(workspaces).where(
                workspaces.c.id == workspace_id, workspaces.c.channel_id == channel_id,
                workspaces.c.channel_error.is_(None)).values(channel_error=error[:64]))
            return bool(changed.rowcount)

    def channel_works(self, workspace_id: int, channel_id: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(workspaces).where(
                workspaces.c.id == workspace_id, workspaces.c.channel_id == channel_id,
                workspaces.c.channel_error.is_not(None)).values(channel_error=None))

    def set_locale(self, workspace_id: int, locale: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(workspaces).where(workspaces.c.id == workspace_id)
                               .values(locale=locale, locale_chosen=True))

    def user(self, workspace_id: int, user_id: str) -> User | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(workspace_users).where(
                workspace_users.c.workspace_id == workspace_id, workspace_users.c.user_id == user_id)
            ).mappings().first()
        return _user(row) if row else None

    def save_user(self, workspace_id: int, user_id: str, **values: object) -> User:
        """Create or update a user's row with ``values`` (two requests at once both end up saved)."""
        mine = (workspace_users.c.workspace_id == workspace_id) & (workspace_users.c.user_id == user_id)
        try:
            with self.engine.begin() as connection:
                if connection.execute(select(workspace_users.c.id).where(mine)).first() is None:
                    connection.execute(insert(workspace_users).values(
                        {"workspace_id": workspace_id, "user_id": user_id, "granted_admin": False, **values}))
                elif values:
                    connection.execute(update(workspace_users).where(mine).values(**values))
        except IntegrityError:  # the other request inserted the row first: update it instead
            if values:
                with self.engine.begin() as connection:
                    connection.execute(update(workspace_users).where(mine).values(**values))
        user = self.user(workspace_id, user_id)
        assert user is not None
        return user

    def admin_users(self, workspace_id: int) -> list[str]:
        """Everyone who is an admin here: granted, or a Slack admin; never an outsider."""
        c = workspace_users.c
        with self.engine.connect() as connection:
            return list(connection.scalars(select(c.user_id).where(
                c.workspace_id == workspace_id, c.outsider.is_(False),
                (c.granted_admin.is_(True)) | (c.slack_admin.is_(True))).order_by(c.id)))

    def admins(self, workspace_id: int) -> list[str]:
        with self.engine.connect() as connection:
            return list(connection.scalars(select(workspace_users.c.user_id).where(
                workspace_users.c.workspace_id == workspace_id, workspace_users.c.granted_admin.is_(True))))


    def first_delivery(self, event_id: str, *, team_id: str | None, now: dt.datetime) -> bool:
        """Note an event Slack delivered; False when it was noted before (a retry of one we have)."""
        try:
            with self.engine.begin() as connection:
                connection.execute(delete(slack_events).where(slack_events.c.received_at < now - EVENTS_KEPT))
                connection.execute(insert(slack_events).values(event_id=event_id[:64], team_id=team_id,
                                                               received_at=now))
        except IntegrityError:  # noted already, by this process or another copy
            return False
        return True

    def forget_delivery(self, event_id: str) -> None:
        """The event could not be handled: a retry of it will be."""
        with self.engine.begin() as connection:
            connection.execute(delete(slack_events).where(slack_events.c.event_id == event_id[:64]))


def _workspace(row: object) -> Workspace:
    return Workspace(**{k: row[k] for k in Workspace.__dataclass_fields__})  # type: ignore[index]


def _user(row: object) -> User:
    return User(**{k: row[k] for k in User.__dataclass_fields__})  # type: ignore[index]


def installation_stores(engine: Engine, client_id: str) -> tuple[SQLAlchemyInstallationStore,
                                                                  SQLAlchemyOAuthStateStore]:
    """slack_sdk's installation store and OAuth state store, on our tables."""
    return (SQLAlchemyInstallationStore(client_id=client_id, engine=engine, bots_table_name=BOTS,
                                        installations_table_name=INSTALLATIONS),
            SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine, table_name=OAUTH_STATES))
