"""A local fake of Slack's Web API that records every call, and signed requests to our app.

The fake answers ``auth.test``, ``users.info`` (users can be set up per test, with a locale and
admin flags), ``team.info``, ``oauth.v2.access``, ``views.open/update/publish``,
``chat.postMessage``/``chat.update``/``chat.postEphemeral`` and ``response_url`` posts
(``/webhook/...``); anything else gets ``{"ok": true}``. ``rate_limit_next`` makes the next calls
of a method answer 429 with ``Retry-After``."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def block_kit_errors(path: str, params: Any) -> list[str]:
    """What slack_sdk's Block Kit and view models find wrong with a payload (their limits
    included): Slack itself would refuse it with ``invalid_blocks``."""
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import Block
    from slack_sdk.models.views import View

    if not isinstance(params, dict):
        return []
    errors: list[str] = []
    try:
        view = params.get("view")
        if isinstance(view, dict):
            View(**view).validate_json()
        blocks = params.get("blocks")
        if isinstance(blocks, list):
            if len(blocks) > 50:
                errors.append(f"{path}: {len(blocks)} blocks in a message (at most 50)")
            for block in blocks:
                parsed = Block.parse(block)
                if parsed is None:
                    errors.append(f"{path}: unknown block {block!r:.200}")
                else:
                    parsed.validate_json()
    except (SlackObjectFormationError, TypeError, KeyError, ValueError) as error:
        errors.append(f"{path}: {error}")
    return errors


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}  # conversations.info answers, by channel id
        self.invalid: list[str] = []  # payloads slack_sdk's models refuse; the fixture fails the test
        self.socket_url: str | None = None  # what apps.connections.open hands out (a FakeSocketMode)
        self.fail_with: dict[str, str] = {}  # method -> Slack error code it answers (ok: false) until cleared
        self.rate_limit_next: dict[str, int] = {}
        self.fail_next: dict[str, int] = {}
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""  # an upload may be binary
                if self.path.lstrip("/").startswith("upload/"):  # a file's bytes (files.uploadV2's second step)
                    params: dict[str, Any] = {"raw": raw}
                elif "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(raw or "{}")
                else:
                    params = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                    for key in ("view", "blocks"):
                        if isinstance(params.get(key), str):
                            try:
                                params[key] = json.loads(params[key])
                            except ValueError:
                                pass
                path = self.path.split("?")[0].lstrip("/")
                status, body, headers = fake.answer(path, params, dict(self.headers))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                data = json.dumps(body).encode()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def answer(self, path: str, params: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            self.calls.append((path, params, headers))
            if self.rate_limit_next.get(path, 0) > 0:
                self.rate_limit_next[path] -= 1
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}
            if self.fail_next.get(path, 0) > 0:
                self.fail_next[path] -= 1
                return 500, {"ok": False, "error": "internal_error"}, {}
            problems = block_kit_errors(path, params)
            if problems:
                self.invalid += problems
                return 200, {"ok": False, "error": "invalid_blocks", "errors": problems}, {}
            if path in self.fail_with:
                return 200, {"ok": False, "error": self.fail_with[path]}, {}
        if path.startswith("webhook/"):
            return 200, "ok", {}
        if path == "auth.test":
            return 200, {"ok": True, "url": "https://example.slack.com/", "team": "Example", "user": "tautan",
                         "team_id": "T1", "user_id": "UBOT", "bot_id": "BBOT", "is_enterprise_install": False}, {}
        if path == "users.info":
            user = self.users.get(params.get("user", ""), {})
            # A member of T1 unless the test says otherwise (team_id, is_restricted, is_stranger, ...).
            return 200, {"ok": True, "user": {"id": params.get("user"), "team_id": "T1", "locale": "en-US",
                                              "is_admin": False, "is_owner": False, "tz": "Asia/Jakarta",
                                              **user}}, {}
        if path == "apps.connections.open":
            if self.socket_url is None:
                return 200, {"ok": False, "error": "not_allowed_token_type"}, {}
            return 200, {"ok": True, "url": self.socket_url}, {}
        if path == "files.getUploadURLExternal":
            file_id = f"F{len(self.calls)}"
            return 200, {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}, {}
        if path.startswith("upload/"):
            return 200, "OK", {}
        if path == "files.completeUploadExternal":
            files = json.loads(params.get("files") or "[]") if isinstance(params.get("files"), str) else []
            return 200, {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files]}, {}
        if path == "conversations.info":
            channel = {"id": params.get("channel"), "is_channel": True, "is_ext_shared": False,
                       **self.channels.get(params.get("channel", ""), {})}
            return 200, {"ok": True, "channel": channel}, {}
        if path == "team.info":
            return 200, {"ok": True, "team": {"id": "T?", "name": "Example Workspace"}}, {}
        if path == "oauth.v2.access":
            if "code" not in params:
                return 200, {"ok": False, "error": "invalid_code"}, {}
            return 200, {"ok": True, "access_token": "xoxb-installed", "token_type": "bot", "scope": "commands,chat:write",
                         "bot_user_id": "UBOT", "app_id": "A1", "team": {"id": "T9", "name": "PT Sembilan"},
                         "enterprise": None, "is_enterprise_install": False,
                         "authed_user": {"id": "U9", "scope": "", "access_token": None, "token_type": None}}, {}
        if path in ("chat.postMessage", "chat.update"):
            return 200, {"ok": True, "channel": params.get("channel"), "ts": f"{time.time():.6f}",
                         "message": {"text": params.get("text", "")}}, {}
        if path.startswith("views."):
            return 200, {"ok": True, "view": {"id": "V1", **(params.get("view") or {})}}, {}
        return 200, {"ok": True}, {}

    def called(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [params for p, params, _ in self.calls if p == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Listeners finish after the ack, on Bolt's thread pool: wait for their calls."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.called(path)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} call(s) to {path}, got {self.called(path)}")

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()

    def close(self) -> None:
        """Stop the server; then fail (the test, from its fixture) on any invalid payload received."""
        self.server.shutdown()
        self.server.server_close()
        self.check()

    def check(self) -> None:
        """Fail when the code under test sent Slack something its Block Kit models refuse."""
        if self.invalid:
            raise AssertionError("invalid Block Kit sent to Slack:\n" + "\n".join(self.invalid))


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends with a request: a v0 HMAC-SHA256 signature over timestamp and body."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def command_body(text: str, *, team: str = "T1", user: str = "U1", channel: str = "C1",
                 response_url: str = "", trigger_id: str = "13345224609.738474920.8088930838d88f008e0",
                 enterprise: str | None = None, org_install: bool = False) -> str:
    grid = {"enterprise_id": enterprise, "enterprise_name": "Grid"} if enterprise else {}
    return urllib.parse.urlencode({
        "token": "legacy", "team_id": team, "team_domain": "example", **grid, "channel_id": channel,
        "channel_name": "procurement", "user_id": user, "user_name": "admin", "command": "/connect",
        "text": text, "api_app_id": "A1", "is_enterprise_install": "true" if org_install else "false",
        "response_url": response_url, "trigger_id": trigger_id})


def payload_body(payload: dict[str, Any]) -> str:
    return "payload=" + urllib.parse.quote(json.dumps(payload))


def iter_blocks_text(blocks: list[dict[str, Any]]) -> Iterator[str]:
    """Every piece of text in some Block Kit blocks, for assertions."""
    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                yield node["text"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)
    yield from walk(blocks)


SLACK_SECRET = "test-signing-secret"


class SlackClient:
    """Sends signed requests to /slack/events of the app under test, as Slack would."""

    container: Any = None

    def __init__(self, client: Any, fake: FakeSlack, secret: str = SLACK_SECRET) -> None:
        self.client, self.fake, self.secret = client, fake, secret

    def post(self, body: str, *, content_type: str = "application/x-www-form-urlencoded",
             timestamp: int | None = None, secret: str | None = None,
             headers: dict[str, str] | None = None) -> Any:
        signed = sign(secret or self.secret, body, timestamp)
        return self.client.post("/slack/events", content=body.encode(),
                                headers={"Content-Type": content_type, **signed, **(headers or {})})

    def command(self, text: str, *, user: str = "U1", team: str = "T1", channel: str = "C1",
                enterprise: str | None = None, org_install: bool = False, **kwargs: Any) -> Any:
        response_url = f"{self.fake.url}/webhook/{team}/{user}"
        return self.post(command_body(text, team=team, user=user, channel=channel, response_url=response_url,
                                      enterprise=enterprise, org_install=org_install), **kwargs)

    def interact(self, payload: dict[str, Any], **kwargs: Any) -> Any:
        return self.post(payload_body(payload), **kwargs)

    def event(self, event: dict[str, Any], *, team: str = "T1", event_id: str | None = None, **kwargs: Any) -> Any:
        body = json.dumps({"token": "legacy", "team_id": team, "api_app_id": "A1", "type": "event_callback",
                           "event_id": event_id or f"Ev{uuid.uuid4().hex[:10]}", "event_time": 1700000000,
                           "authorizations": [{"team_id": team, "user_id": "UBOT", "is_bot": True}],
                           "event": event})
        return self.post(body, content_type="application/json", **kwargs)


# --- many workspaces: OAuth installs, set up directly in the app's installation store ----------

CLIENT_ID, CLIENT_SECRET = "111.222", "client-secret"
MANY_WORKSPACES = {"slack_bot_token": None, "slack_client_id": CLIENT_ID, "slack_client_secret": CLIENT_SECRET}


def install(slack: SlackClient, team: str | None, *, enterprise: str | None = None, user: str = "UINST",
            token: str | None = None) -> str:
    """Store an installation as the OAuth flow would: of one workspace (``team``), or with
    ``team=None`` of a whole Enterprise Grid organisation. Returns the bot token."""
    from slack_sdk.oauth.installation_store import Installation

    token = token or f"xoxb-{team or enterprise}"
    slack.container.slack_app.installation_store.save(Installation(
        app_id="A1", enterprise_id=enterprise, team_id=team, bot_token=token, bot_id="BBOT", bot_user_id="UBOT",
        bot_scopes="commands,chat:write", user_id=user, is_enterprise_install=team is None))
    return token
