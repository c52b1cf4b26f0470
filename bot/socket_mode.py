"""Socket Mode: Slack's events over a WebSocket the app opens, for development machines and
servers Slack cannot reach. Production keeps HTTP mode (Slack does not list Socket Mode apps in
its Marketplace, and the OAuth redirect needs a public URL anyway); both can run at once, since
the same Bolt app answers either way. The composition root decides when to connect.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.adapter import socket_mode

log = logging.getLogger(__name__)


def connect(app: App, app_token: str) -> socket_mode.SocketModeHandler:
    """Connect ``app`` to Slack in the background with an ``xapp-`` token; call ``close()`` on the
    handler at shutdown."""
    handler = socket_mode.SocketModeHandler(app, app_token)
    handler.connect()  # type: ignore[no-untyped-call]  # returns at once: the built-in client keeps the connection on its own threads
    log.info("slack: connected in Socket Mode")
    return handler
