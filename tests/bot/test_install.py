"""Multi-workspace installs through OAuth, Socket Mode start-up, and the app manifest.

The install runs through the real web app: GET /slack/install, then Slack's redirect back with a
code and the state cookie; the fake Web API answers oauth.v2.access. SQLite and PostgreSQL both
(the slack_sdk stores keep naive timestamps, which PostgreSQL is strict about).
"""

from __future__ import annotations

import re
import time
import urllib.parse
from pathlib import Path

import pytest
from sqlalchemy import select

from tautan.slack_store import INSTALLATIONS, SlackStore, metadata

CLIENT_ID, CLIENT_SECRET = "111.222", "client-secret"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def oauth_slack(make_slack):  # noqa: ANN001, ANN201
    """The web app with Slack configured for many workspaces (OAuth), its Web API pointed at the fake."""
    return make_slack(slack_bot_token=None, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET)


def _install(slack):  # noqa: ANN001, ANN202
    """Start an install and come back from Slack's authorize page; returns the final response."""
    started = slack.client.get("/slack/install")
    assert started.status_code == 200
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', started.text)
    assert link, started.text
    query = urllib.parse.parse_qs(urllib.parse.urlparse(link.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == [CLIENT_ID]
    assert set(query["scope"][0].split(",")) >= {"commands", "chat:write", "users:read"}
    state = query["state"][0]
    assert started.cookies.get("slack-app-oauth-state") == state, "the state is bound to this browser"
    return slack.client.get(f"/slack/oauth_redirect?code=abc123&state={state}")


def test_an_install_binds_the_workspace_and_makes_the_installer_an_admin(oauth_slack) -> None:  # noqa: ANN001
    slack = oauth_slack
    finished = _install(slack)
    assert finished.status_code == 200
    assert "Tautan is installed" in finished.text

    access = slack.fake.called("oauth.v2.access")
    assert len(access) == 1 and access[0]["code"] == "abc123"

    installations = metadata.tables[INSTALLATIONS]
    with slack.container.engine.connect() as connection:
        rows = connection.execute(select(installations)).mappings().all()
    assert [(r["team_id"], r["bot_token"], r["user_id"]) for r in rows] == [("T9", "xoxb-installed", "U9")]

    store = SlackStore(slack.container.engine)
    workspace = store.workspace("T9")
    assert workspace is not None and workspace.name == "PT Sembilan"
    assert workspace.installer_user_id == "U9"
    installer = store.user(workspace.id, "U9")
    assert installer is not None and installer.granted_admin
    assert store.admins(workspace.id) == ["U9"]

    from tautan.core import services

    company = services.get_company(slack.container.uow(), workspace.company_id)
    assert company.name == "PT Sembilan" and company.role == "customer" and company.parent_id is None

    # From now on, requests from T9 are authorized with the token stored at install.
    slack.fake.reset()
    answer = slack.command("help", team="T9", user="U9")
    assert answer.status_code == 200
    users_info = [headers for path, _, headers in slack.fake.calls if path == "users.info"]
    assert users_info and all(h.get("Authorization") == "Bearer xoxb-installed" for h in users_info)
    assert store.workspace("T9") == workspace, "the same binding, not a second company"


def test_installing_again_keeps_the_company(oauth_slack) -> None:  # noqa: ANN001
    slack = oauth_slack
    assert _install(slack).status_code == 200
    first = SlackStore(slack.container.engine).workspace("T9")
    assert _install(slack).status_code == 200
    again = SlackStore(slack.container.engine).workspace("T9")
    assert first is not None and again is not None and again.company_id == first.company_id


def test_a_bad_state_ends_on_a_failure_page_and_installs_nothing(oauth_slack) -> None:  # noqa: ANN001
    slack = oauth_slack
    slack.client.get("/slack/install")  # a real state cookie, but the redirect carries another state
    answer = slack.client.get("/slack/oauth_redirect?code=abc123&state=forged")
    assert answer.status_code == 400
    assert "The installation did not finish" in answer.text
    assert slack.fake.called("oauth.v2.access") == []
    with slack.container.engine.connect() as connection:
        assert connection.execute(select(metadata.tables[INSTALLATIONS])).first() is None
    assert SlackStore(slack.container.engine).workspace("T9") is None


def test_without_the_state_cookie_the_install_fails(oauth_slack) -> None:  # noqa: ANN001
    slack = oauth_slack
    started = slack.client.get("/slack/install")
    state = started.cookies.get("slack-app-oauth-state")
    slack.client.cookies.clear()  # another browser
    answer = slack.client.get(f"/slack/oauth_redirect?code=abc123&state={state}")
    assert answer.status_code == 400 and "The installation did not finish" in answer.text
    assert slack.fake.called("oauth.v2.access") == []


def test_a_workspace_that_never_installed_is_not_served(oauth_slack) -> None:  # noqa: ANN001
    slack = oauth_slack
    answer = slack.command("help", team="T7", user="U7")
    assert answer.status_code == 200
    assert SlackStore(slack.container.engine).workspace("T7") is None
    assert slack.fake.called("users.info") == []


def test_uninstalling_removes_the_stored_tokens(oauth_slack) -> None:  # noqa: ANN001
    slack = oauth_slack
    assert _install(slack).status_code == 200
    answer = slack.event({"type": "app_uninstalled"}, team="T9")
    assert answer.status_code == 200
    store = slack.container.slack_app.installation_store
    deadline = time.monotonic() + 5
    while store.find_bot(enterprise_id=None, team_id="T9") is not None and time.monotonic() < deadline:
        time.sleep(0.02)  # the listener runs after the ack
    assert store.find_bot(enterprise_id=None, team_id="T9") is None
    assert SlackStore(slack.container.engine).workspace("T9") is not None, "the company keeps its data"


# --- Socket Mode --------------------------------------------------------------------------------

def _container(**settings: object):  # noqa: ANN202
    from tautan.settings import Settings
    from tautan.wiring import Container

    return Container(Settings(database_url="sqlite://", **settings))  # type: ignore[arg-type]


def test_socket_mode_is_not_started_without_an_app_token(monkeypatch) -> None:  # noqa: ANN001
    import slack_bolt.adapter.socket_mode as socket_mode

    from tautan.wiring import start_socket_mode

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("Socket Mode must not start")

    monkeypatch.setattr(socket_mode, "SocketModeHandler", refuse)
    assert start_socket_mode(_container()) is None
    assert start_socket_mode(_container(slack_bot_token="xoxb-1", slack_signing_secret="s")) is None
    # A token without Slack configured: nothing to serve, so nothing starts either.
    assert start_socket_mode(_container(slack_app_token="xapp-1")) is None


def test_socket_mode_connects_in_the_background_with_the_app_token(monkeypatch) -> None:  # noqa: ANN001
    import slack_bolt.adapter.socket_mode as socket_mode

    from tautan.wiring import start_socket_mode

    made: list[tuple[object, str]] = []

    class Handler:
        def __init__(self, app: object, token: str) -> None:
            made.append((app, token))
            self.connected = False

        def connect(self) -> None:
            self.connected = True

    monkeypatch.setattr(socket_mode, "SocketModeHandler", Handler)
    container = _container(slack_bot_token="xoxb-1", slack_signing_secret="s", slack_app_token="xapp-1")
    handler = start_socket_mode(container)
    assert isinstance(handler, Handler) and handler.connected
    assert made == [(container.slack_app, "xapp-1")]


# --- the manifest -------------------------------------------------------------------------------

def test_the_manifest_asks_for_what_the_app_uses() -> None:
    from tautan.bot.app import SCOPES

    text = (ROOT / "slack" / "manifest.yml").read_text(encoding="utf-8")
    bot_scopes = re.search(r"^    bot:\n((?:      - .*\n)+)", text, re.M)
    assert bot_scopes
    assert {line.split("-", 1)[1].split("#")[0].strip() for line in bot_scopes.group(1).splitlines()} == set(SCOPES)
    for event in ("app_home_opened", "app_uninstalled", "tokens_revoked"):
        assert re.search(rf"^      - {event}$", text, re.M)
    assert "command: /connect" in text and "usage_hint:" in text
    assert "https://tautan.example.com/slack/oauth_redirect" in text
    assert "home_tab_enabled: true" in text
    # The type-ahead over the company's suppliers (an external_select) needs its options URL.
    assert re.search(r"^    message_menu_options_url: https://tautan.example.com/slack/events$", text, re.M)
    urls = re.findall(r"(?:url|request_url): (\S+)", text)
    assert urls and all(u == "https://tautan.example.com/slack/events" for u in urls)


# What each Web API method the bot calls needs (api.slack.com/methods). A method missing here fails
# the test below: add it with its scopes, and the scopes to the manifest and SCOPES.
METHOD_SCOPES = {
    "auth_test": set(), "views_open": set(), "views_push": set(), "views_update": set(), "views_publish": set(),
    "chat_postMessage": {"chat:write"}, "chat_update": {"chat:write"}, "chat_postEphemeral": {"chat:write"},
    "users_info": {"users:read"}, "team_info": {"team:read"},
    "conversations_info": {"channels:read", "groups:read"}, "files_upload_v2": {"files:write"},
}
# Asked for without a method: slash commands, and posting in a public channel the bot was not added to.
WITHOUT_A_METHOD = {"commands", "chat:write.public"}


def test_the_manifest_scopes_are_those_of_the_methods_the_code_calls() -> None:
    from tautan.bot.app import SCOPES

    called = set()
    for source in (ROOT / "bot").glob("*.py"):
        called |= set(re.findall(r"\.((?:auth|views|chat|users|team|conversations|files|apps|reactions|pins|im)"
                                 r"_[A-Za-z0-9_]+)\(", source.read_text(encoding="utf-8")))
    unknown = called - METHOD_SCOPES.keys()
    assert not unknown, f"say which scopes these need: {unknown}"
    needed = set().union(*(METHOD_SCOPES[m] for m in called)) | WITHOUT_A_METHOD
    assert set(SCOPES) == needed
    text = (ROOT / "slack" / "manifest.yml").read_text(encoding="utf-8")
    assert "im:write" not in text
    assert re.search(r"^    messages_tab_enabled: true$", text, re.M)
    assert re.search(r"^    messages_tab_read_only_enabled: true$", text, re.M)
    assert "admin" in re.search(r"usage_hint: (.*)", text).group(1)  # type: ignore[union-attr]
