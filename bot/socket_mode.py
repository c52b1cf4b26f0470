"""Socket Mode: Slack's events over a WebSocket the app opens, for development machines and
servers Slack cannot reach. Production keeps HTTP mode (Slack does not list Socket Mode apps in
its Marketplace, and the OAuth redirect needs a public URL anyway); both can run at once, since
the same Bolt app answers either way.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tautan.wiring import Container

log = logging.getLogger(__name__)


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
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, token)
    handler.connect()  # returns at once: the built-in client keeps the connection on its own threads
    log.info("slack: connected in Socket Mode")
    return handler
