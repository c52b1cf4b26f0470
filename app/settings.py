"""Settings from the environment, read once in ``main()`` (DESIGN.md §3)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tautan.core.i18n import normalize_locale

if TYPE_CHECKING:
    from tautan.mail.compose import DkimKey


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///tautan.db"
    secret_keys: tuple[str, ...] = ("dev-only-insecure-key",)
    public_base_url: str = "http://127.0.0.1:8000"
    mail_domain: str = "localhost"
    mail_from: str = "tautan@localhost"
    smtp_relay_url: str | None = None
    smtp_listen: str = "127.0.0.1:8025"
    imap_url: str | None = None
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_api_url: str | None = None
    slack_app_token: str | None = None
    default_locale: str = "en"
    port: int = 8000
    maildir: str = "var/sent-mail"
    dkim_selector: str | None = None
    dkim_private_key_file: str | None = None
    smtp_tls_cert: str | None = None
    smtp_tls_key: str | None = None
    smtp_max_message_size: int = 10 * 1024 * 1024
    allow_test_domains: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str, default: str | None = None) -> str | None:
            value = env.get(name, "").strip()
            return value or default

        mail_domain = get("MAIL_DOMAIN", cls.mail_domain) or cls.mail_domain
        keys = tuple(k.strip() for k in (get("SECRET_KEY") or "").split(",") if k.strip())
        return cls(
            database_url=get("DATABASE_URL", cls.database_url) or cls.database_url,
            secret_keys=keys or cls.secret_keys,
            public_base_url=(get("PUBLIC_BASE_URL", cls.public_base_url) or "").rstrip("/"),
            mail_domain=mail_domain,
            mail_from=get("MAIL_FROM") or f"tautan@{mail_domain}",
            smtp_relay_url=get("SMTP_RELAY_URL"),
            smtp_listen=get("SMTP_LISTEN", cls.smtp_listen) or cls.smtp_listen,
            imap_url=get("IMAP_URL"),
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_client_id=get("SLACK_CLIENT_ID"),
            slack_client_secret=get("SLACK_CLIENT_SECRET"),
            slack_api_url=get("SLACK_API_URL"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            default_locale=normalize_locale(get("DEFAULT_LOCALE"), "en"),
            port=int(get("PORT", "8000") or 8000),
            maildir=get("SENT_MAIL_DIR", cls.maildir) or cls.maildir,
            dkim_selector=get("DKIM_SELECTOR"),
            dkim_private_key_file=get("DKIM_PRIVATE_KEY_FILE"),
            smtp_tls_cert=get("SMTP_TLS_CERT"),
            smtp_tls_key=get("SMTP_TLS_KEY"),
            smtp_max_message_size=int(get("SMTP_MAX_MESSAGE_SIZE") or cls.smtp_max_message_size),
            allow_test_domains=(get("ALLOW_TEST_DOMAINS") or "").lower() in ("1", "true", "yes", "on"),
        )

    def smtp_listen_address(self) -> tuple[str, int]:
        host, _, port = self.smtp_listen.rpartition(":")
        return host.strip("[]") or "127.0.0.1", int(port)

    def dkim_key(self) -> DkimKey | None:
        """The DKIM signing key, when ``DKIM_SELECTOR`` and ``DKIM_PRIVATE_KEY_FILE`` are set."""
        if not (self.dkim_selector and self.dkim_private_key_file):
            return None
        from tautan.mail.compose import DkimKey

        with open(self.dkim_private_key_file, "rb") as key:
            return DkimKey(selector=self.dkim_selector, domain=self.mail_domain, private_key=key.read())

    def __repr__(self) -> str:  # never print secrets
        return f"Settings(database_url={redact_url(self.database_url)!r}, mail_domain={self.mail_domain!r})"


def redact_url(url: str) -> str:
    """The URL with any password replaced, for logs and messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a database URL: hide everything after the scheme
        return url.split("://", 1)[0] + "://***"
