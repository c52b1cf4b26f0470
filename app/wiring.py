"""The composition root: builds engines, sessions and units of work from the settings, once per
process (never at import time)."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from tautan.core.errors import Unavailable
from tautan.core.i18n import N_
from tautan.core.uow import Clock, UnitOfWork, system_clock
from tautan.db import make_engine, make_session_factory
from tautan.settings import Settings

if TYPE_CHECKING:
    from slack_bolt import App

    from tautan.bot.context import Deps
    from tautan.bot.notify import SlackNotifier
    from tautan.mail.compose import MailConfig
    from tautan.mail.inbound import Inbound

log = logging.getLogger(__name__)


class NotMigrated(Unavailable):
    message_id = N_("The database is not set up yet. Run: tautan db upgrade")


@dataclass
class Container:
    settings: Settings
    clock: Clock = system_clock
    _checked: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        from tautan.core.services import allow_test_domains

        allow_test_domains(self.settings.allow_test_domains)

    @functools.cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @functools.cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def uow(self) -> UnitOfWork:
        if not self._checked:
            self.check_schema()
        return UnitOfWork(self.session_factory, clock=self.clock)

    def check_schema(self) -> None:
        """Fail with a clear message when the database is unreachable or not migrated."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT version_num FROM alembic_version")).all()
        except (sa_exc.OperationalError, sa_exc.ProgrammingError) as error:
            if _missing_table(error):
                raise NotMigrated() from None
            raise Unavailable() from None
        except sa_exc.InterfaceError:
            raise Unavailable() from None
        self._checked = True

    def mail_config(self) -> MailConfig:
        from tautan.mail.compose import MailConfig

        s = self.settings
        return MailConfig(mail_domain=s.mail_domain, mail_from=s.mail_from, public_base_url=s.public_base_url,
                          secret_keys=s.secret_keys, dkim=s.dkim_key())

    def inbound(self) -> Inbound:
        from tautan.mail.inbound import Inbound

        return Inbound(self.uow, self.mail_config())

    @functools.cached_property
    def slack_deps(self) -> Deps:
        """What the Slack listeners and the notifier need from here."""
        from tautan.bot.context import Deps
        from tautan.slack_store import SlackStore

        s = self.settings
        # The clock is looked up on each call: a test (or the demo) may move the container's clock later.
        return Deps(uow=self.uow, store=SlackStore(self.engine), clock=lambda: self.clock(),
                    public_base_url=s.public_base_url, secret_keys=s.secret_keys, default_locale=s.default_locale,
                    mail_domain=s.mail_domain)

    @functools.cached_property
    def slack_app(self) -> App | None:
        """The Bolt app, when Slack is configured (a signing secret, and a bot token or OAuth)."""
        s = self.settings
        if not s.slack_signing_secret or not (s.slack_bot_token or (s.slack_client_id and s.slack_client_secret)):
            return None
        from tautan.bot.app import build_app
        from tautan.slack_store import installation_stores

        installation_store = state_store = None
        if s.slack_client_id and s.slack_client_secret:
            installation_store, state_store = installation_stores(self.engine, s.slack_client_id)
        return build_app(self.slack_deps, signing_secret=s.slack_signing_secret, bot_token=s.slack_bot_token,
                         client_id=s.slack_client_id, client_secret=s.slack_client_secret,
                         api_url=s.slack_api_url, installation_store=installation_store, state_store=state_store)

    def slack_notifier(self) -> SlackNotifier | None:
        """The channel notices' deliverer, when Slack is configured."""
        app = self.slack_app
        if app is None:
            return None
        from tautan.bot.notify import SlackNotifier

        return SlackNotifier(app, self.slack_deps)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def start_socket_mode(container: Container) -> Any | None:
    """Connect to Slack in the background when ``SLACK_APP_TOKEN`` (an ``xapp-`` token) is set
    and Slack is configured; returns the handler (call ``close()`` on shutdown), else None."""
    token = container.settings.slack_app_token
    if not token:
        return None
    app = container.slack_app
    if app is None:
        log.warning("SLACK_APP_TOKEN is set but Slack is not configured (signing secret and a bot token "
                    "or OAuth client); Socket Mode is off")
        return None
    from tautan.bot.socket_mode import connect

    return connect(app, token)


def _missing_table(error: sa_exc.DBAPIError) -> bool:
    text_ = str(error.orig).lower()
    return "no such table" in text_ or getattr(error.orig, "sqlstate", None) == "42P01"
