"""Slack on every kind of workspace: Enterprise Grid installs, outside users and guests, one
workspace per bot token, languages Slack does not have, rate limits, and Block Kit as Slack
checks it. Signed requests through the running web app, against the fake Web API."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from tautan.core import services
from tautan.core.errors import InvalidInput
from tautan.core.i18n import translator
from tautan.core.model import Role
from tautan.slack_store import SlackStore
from tests.support.slack import MANY_WORKSPACES, block_kit_errors, install, iter_blocks_text


def answer_to(slack, team: str, user: str) -> dict[str, Any]:  # noqa: ANN001
    (answer,) = slack.fake.wait_for(f"webhook/{team}/{user}")
    return answer


def text_of(message: dict[str, Any]) -> str:
    return "\n".join([message.get("text") or "", *iter_blocks_text(message.get("blocks") or [])])


def supplier_asks(slack, company_id: int, supplier: str) -> None:  # noqa: ANN001
    with contextlib.suppress(InvalidInput):
        services.create_company(slack.container.uow(), name=supplier, actor="cli:test", via="cli",
                                roles=[Role.SUPPLIER])
    services.request(slack.container.uow(), supplier=supplier, customer=company_id, types=["invoice"],
                     actor="email:sales@example.co.id", via="email")


def wait_until(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the listener did not finish")
        time.sleep(0.02)


# --- Enterprise Grid ----------------------------------------------------------------------------

def test_a_grid_workspace_install_gets_its_notices_with_its_own_token(make_slack) -> None:  # noqa: ANN001
    slack = make_slack(**MANY_WORKSPACES)
    install(slack, "T5", enterprise="E1")
    slack.fake.users["U5"] = {"team_id": "T5", "is_admin": True}
    assert slack.command("channel", team="T5", user="U5", enterprise="E1", channel="C5").status_code == 200
    store = SlackStore(slack.container.engine)
    wait_until(lambda: (store.workspace("T5") or None) is not None and store.workspace("T5").channel_id == "C5")
    workspace = store.workspace("T5")
    assert workspace is not None and workspace.enterprise_id == "E1"

    supplier_asks(slack, workspace.company_id, "PT Grid Satu")
    slack.fake.reset()
    report = slack.container.slack_notifier().run()
    assert report.sent == 1 and report.failed == 0
    (post,) = [headers for path, params, headers in slack.fake.calls
               if path == "chat.postMessage" and params.get("channel") == "C5"]
    assert post.get("Authorization") == "Bearer xoxb-T5"


def test_an_org_wide_grid_install_serves_each_workspace_with_the_orgs_token(make_slack) -> None:  # noqa: ANN001
    slack = make_slack(**MANY_WORKSPACES)
    install(slack, None, enterprise="E2")
    slack.fake.users["U6"] = {"team_id": "E2", "enterprise_user": {"enterprise_id": "E2"}, "is_admin": True}
    answer = slack.command("channel", team="T6", user="U6", enterprise="E2", org_install=True, channel="C6")
    assert answer.status_code == 200
    store = SlackStore(slack.container.engine)
    wait_until(lambda: store.workspace("T6") is not None and store.workspace("T6").channel_id == "C6")
    workspace = store.workspace("T6")
    assert workspace is not None and workspace.enterprise_id == "E2"

    supplier_asks(slack, workspace.company_id, "PT Grid Dua")
    slack.fake.reset()
    report = slack.container.slack_notifier().run()
    assert report.sent == 1, report
    (post,) = [headers for path, params, headers in slack.fake.calls
               if path == "chat.postMessage" and params.get("channel") == "C6"]
    assert post.get("Authorization") == "Bearer xoxb-E2"


# --- who may act ---------------------------------------------------------------------------------

def test_a_slack_connect_outsider_with_is_admin_is_never_an_admin(slack) -> None:  # noqa: ANN001
    slack.fake.users["UX"] = {"team_id": "TOTHER", "is_admin": True, "is_owner": True}
    slack.command("invite ana@pt-maju.co.id", user="UX")
    assert answer_to(slack, "T1", "UX")["text"].startswith("Only admins of")
    assert slack.fake.called("chat.postMessage") == [] or all(
        "invited" not in text_of(p) for p in slack.fake.called("chat.postMessage"))


def test_a_granted_admin_who_is_a_guest_or_stranger_is_not_an_admin(slack) -> None:  # noqa: ANN001
    slack.fake.users["U1"] = {"is_admin": True}
    slack.fake.users["UG"] = {"is_restricted": True}
    slack.fake.users["US"] = {"is_stranger": True}
    slack.command("admin add <@UG> <@US>")
    answer_to(slack, "T1", "U1")
    for user in ("UG", "US"):
        slack.command("cancel 1", user=user)
        assert answer_to(slack, "T1", user)["text"].startswith("Only admins of")


def test_choosing_a_channel_shared_with_another_organisation_warns(slack) -> None:  # noqa: ANN001
    slack.fake.users["U1"] = {"is_admin": True}
    slack.fake.channels["C7"] = {"is_ext_shared": True}
    slack.command("channel", channel="C7")
    text = answer_to(slack, "T1", "U1")["text"]
    assert "shared with another organisation" in text
    assert [p["channel"] for p in slack.fake.called("chat.postMessage")] == ["C7"]


# --- one workspace per bot token -----------------------------------------------------------------

def test_one_workspace_mode_handles_an_uninstall(slack) -> None:  # noqa: ANN001
    slack.command("help")
    store = SlackStore(slack.container.engine)
    workspace = store.workspace("T1")
    assert workspace is not None
    store.set_channel(workspace.id, "C42")
    assert slack.event({"type": "app_uninstalled"}).status_code == 200
    wait_until(lambda: store.workspace("T1").channel_id is None)  # type: ignore[union-attr]


# --- language ------------------------------------------------------------------------------------

def test_an_indonesian_company_reads_indonesian_though_slack_says_en_us(slack) -> None:  # noqa: ANN001
    slack.fake.users["U1"] = {"is_admin": True}
    slack.fake.users["U8"] = {"locale": "en-US", "tz": "Asia/Jakarta"}
    slack.command("lang company id")
    answer_to(slack, "T1", "U1")
    slack.command("help", user="U8")
    indonesian = translator("id")("This is what /connect can do.")
    assert indonesian != "This is what /connect can do."
    assert answer_to(slack, "T1", "U8")["text"] == indonesian


def test_a_time_zone_of_indonesia_is_the_guess_when_slack_has_no_language_of_ours(slack) -> None:  # noqa: ANN001
    slack.fake.users["U9"] = {"locale": "ja-JP", "tz": "Asia/Makassar"}
    slack.fake.users["U10"] = {"locale": "ja-JP", "tz": "Europe/Berlin"}
    slack.command("help", user="U9")
    slack.command("help", user="U10")
    assert answer_to(slack, "T1", "U9")["text"] == translator("id")("This is what /connect can do.")
    assert answer_to(slack, "T1", "U10")["text"] == "This is what /connect can do."


# --- input ------------------------------------------------------------------------------------------

def test_invite_with_something_that_is_not_an_address_says_so(slack) -> None:  # noqa: ANN001
    slack.fake.users["U1"] = {"is_admin": True}
    slack.command("invite not-an-email")
    assert answer_to(slack, "T1", "U1")["text"] == "not-an-email is not a valid email address."


# --- rate limits and Block Kit -------------------------------------------------------------------------

def test_a_rate_limited_home_tab_is_published_after_retry_after(slack) -> None:  # noqa: ANN001
    slack.fake.rate_limit_next["views.publish"] = 1
    slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    calls = slack.fake.wait_for("views.publish", count=2)
    assert len(calls) == 2


def test_the_fake_refuses_block_kit_that_slack_would_refuse() -> None:
    too_long = {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]}
    assert block_kit_errors("chat.postMessage", too_long)
    assert block_kit_errors("views.open", {"view": {"type": "modal", "title": {"type": "plain_text",
                                                                                  "text": "x" * 25},
                                                      "blocks": [{"type": "divider"}]}})
    assert block_kit_errors("chat.postMessage", {"blocks": [{"type": "no such block"}]})
    fine = {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*ok*"}}]}
    assert block_kit_errors("chat.postMessage", fine) == []


# --- Socket Mode, through slack_sdk's own client and Bolt's handler ----------------------------------

def _envelope(envelope_id: str, event_id: str, retry: int) -> dict[str, Any]:
    return {"envelope_id": envelope_id, "type": "events_api", "accepts_response_payload": False,
            "retry_attempt": retry, "retry_reason": "timeout" if retry else "",
            "payload": {"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                        "event_id": event_id, "event_time": 1700000000,
                        "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
                        "event": {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}}}


def test_socket_mode_acts_on_a_first_delivery_and_once_on_its_retry(make_slack) -> None:  # noqa: ANN001
    from tautan.wiring import start_socket_mode
    from tests.support.socket_mode import FakeSocketMode

    server = FakeSocketMode()
    slack = make_slack(slack_app_token="xapp-1-test")
    slack.fake.socket_url = server.url
    handler = start_socket_mode(slack.container)
    try:
        assert handler is not None and server.connected.wait(10)
        server.send(_envelope("env-1", "EvSocket1", retry=0))  # Slack's first delivery says retry_attempt 0
        server.wait_for_ack("env-1")
        slack.fake.wait_for("views.publish")
        server.send(_envelope("env-2", "EvSocket1", retry=1))  # the same event again: acknowledged, not redone
        server.wait_for_ack("env-2")
        server.send(_envelope("env-3", "EvSocket2", retry=0))
        server.wait_for_ack("env-3")
        slack.fake.wait_for("views.publish", count=2)
        assert len(slack.fake.called("views.publish")) == 2
    finally:
        if handler is not None:
            handler.close()
        server.close()


# --- shortcuts ---------------------------------------------------------------------------------------

def _shortcut(slack, callback_id: str, *, user: str = "U1", text: str | None = None) -> Any:  # noqa: ANN001
    payload: dict[str, Any] = {
        "type": "shortcut" if text is None else "message_action", "callback_id": callback_id,
        "team": {"id": "T1", "domain": "example"}, "user": {"id": user, "team_id": "T1", "username": "someone"},
        "api_app_id": "A1", "token": "legacy", "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "action_ts": "1700000001.000200"}
    if text is not None:
        payload |= {"channel": {"id": "C1", "name": "procurement"}, "message_ts": "1700000000.000100",
                    "message": {"type": "message", "user": "U2", "ts": "1700000000.000100", "text": text},
                    "response_url": f"{slack.fake.url}/webhook/T1/{user}"}
    return slack.interact(payload)


def test_the_global_shortcut_opens_the_invite_form(slack) -> None:  # noqa: ANN001
    slack.fake.users["U1"] = {"is_admin": True}
    assert _shortcut(slack, "invite_suppliers").status_code == 200
    (opened,) = slack.fake.wait_for("views.open")
    assert opened["view"]["callback_id"] == "invite"


def test_the_message_shortcut_fills_the_form_with_the_addresses_of_the_message(slack) -> None:  # noqa: ANN001
    slack.fake.users["U1"] = {"is_admin": True}
    text = ("Tolong undang <mailto:ana@pt-maju.co.id|ana@pt-maju.co.id> dan Budi@CV-Baru.co.id, "
            "juga ana@pt-maju.co.id lagi; bukan alamat: x@y")
    assert _shortcut(slack, "invite_from_message", text=text).status_code == 200
    (opened,) = slack.fake.wait_for("views.open")
    emails = next(b for b in opened["view"]["blocks"] if b["block_id"] == "emails")
    assert emails["element"]["initial_value"] == "ana@pt-maju.co.id\nbudi@cv-baru.co.id"


def test_a_shortcut_by_someone_who_is_not_an_admin_is_answered_not_404(slack) -> None:  # noqa: ANN001
    answer = _shortcut(slack, "invite_from_message", user="U2", text="ana@pt-maju.co.id")
    assert answer.status_code == 200
    assert answer_to(slack, "T1", "U2")["text"].startswith("Only admins of")
    assert slack.fake.called("views.open") == []


def test_home_invite_and_send_again_by_a_non_admin_answer_200(slack) -> None:  # noqa: ANN001
    """Both raise after their ack; the one wrapper answers, so Slack never sees a 404."""
    home = slack.interact({
        "type": "block_actions", "team": {"id": "T1", "domain": "example"},
        "user": {"id": "U2", "team_id": "T1", "username": "someone"}, "api_app_id": "A1", "token": "legacy",
        "trigger_id": "13345224609.738474920.8088930838d88f008e0", "container": {"type": "view", "view_id": "V1"},
        "view": {"id": "V1", "type": "home", "blocks": []},
        "actions": [{"action_id": "choose_channel", "block_id": "b", "value": "choose", "type": "button",
                     "action_ts": "1700000001.000200"}]})
    assert home.status_code == 200
    (told,) = slack.fake.wait_for("chat.postMessage")
    assert told["channel"] == "U2" and told["text"].startswith("Only admins of")
    again = slack.interact({
        "type": "block_actions", "team": {"id": "T1", "domain": "example"},
        "user": {"id": "U2", "team_id": "T1", "username": "someone"}, "api_app_id": "A1", "token": "legacy",
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "container": {"type": "message", "channel_id": "C42", "message_ts": "1.2"}, "channel": {"id": "C42"},
        "message": {"ts": "1.2", "text": "x", "blocks": []}, "response_url": f"{slack.fake.url}/webhook/T1/U2",
        "actions": [{"action_id": "notice_resend", "block_id": "notice_actions", "value": "1", "type": "button",
                     "action_ts": "1700000001.000200"}]})
    assert again.status_code == 200
    assert answer_to(slack, "T1", "U2")["text"].startswith("Only admins of")


# --- export ------------------------------------------------------------------------------------------

def test_export_uploads_the_connections_as_csv_in_the_readers_language(slack) -> None:  # noqa: ANN001
    import csv
    import io

    slack.fake.users["U3"] = {"locale": "id-ID"}
    slack.command("help")
    workspace = SlackStore(slack.container.engine).workspace("T1")
    assert workspace is not None
    services.invite(slack.container.uow(), customer=workspace.company_id, email="ana@pt-maju.co.id",
                    types=["invoice", "order"], supplier_name="=HYPERLINK(\"x\")", actor="cli:test", via="cli")
    supplier_asks(slack, workspace.company_id, "CV Baru")
    slack.fake.reset()
    assert slack.command("export", user="U3", channel="C1").status_code == 200
    (upload,) = slack.fake.wait_for("files.getUploadURLExternal")
    (complete,) = slack.fake.wait_for("files.completeUploadExternal")
    assert complete["channel_id"] == "C1" and upload["filename"].endswith(".csv")
    (sent,) = [params for path, params, _ in slack.fake.calls if path.startswith("upload/")]
    text = sent["raw"]
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    t = translator("id")
    assert rows[0][:4] == [t("Supplier"), t("Customer"), t("Document type"), t("Status")]
    assert rows[0][0] != "Supplier"
    assert len(rows) == 4
    assert all(not row[0].startswith("=") for row in rows[1:]), "a name never becomes a formula"
    assert {row[2] for row in rows[1:]} == {t("invoice"), t("order")}


# --- App Home sections ----------------------------------------------------------------------------

def test_the_home_tab_has_sections_for_the_invited_and_for_what_needs_a_look(slack) -> None:  # noqa: ANN001
    import datetime as dt

    slack.command("help")
    workspace = SlackStore(slack.container.engine).workspace("T1")
    assert workspace is not None

    def invite(email: str, name: str) -> None:
        services.invite(slack.container.uow(), customer=workspace.company_id, email=email, types=["invoice"],
                        supplier_name=name, actor="cli:test", via="cli")

    invite("lama@cv-lama.co.id", "CV Lama")
    real = slack.container.clock
    slack.container.clock = lambda: real() + dt.timedelta(days=31)
    services.expire(slack.container.uow())
    slack.container.clock = real
    invite("ana@pt-maju.co.id", "PT Maju")
    slack.fake.reset()
    slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    (published,) = slack.fake.wait_for("views.publish")
    headers = [b["text"]["text"] for b in published["view"]["blocks"] if b["type"] == "header"]
    assert headers[1:] == ["Requests waiting for an answer", "Invited, waiting for the supplier", "Needs a look",
                           "Recent activity"]
    blocks = published["view"]["blocks"]

    def section_text(title: str) -> str:
        start = next(i for i, b in enumerate(blocks) if b["type"] == "header" and b["text"]["text"] == title)
        end = next((i for i, b in enumerate(blocks[start + 1:], start + 1) if b["type"] == "header"), len(blocks))
        return "\n".join(iter_blocks_text(blocks[start:end]))

    assert "PT Maju" in section_text("Invited, waiting for the supplier")
    assert "CV Lama" in section_text("Needs a look") and "CV Lama" not in section_text(
        "Invited, waiting for the supplier")


# --- deny with a reason ---------------------------------------------------------------------------

def test_deny_with_a_reason_asks_in_a_form_and_keeps_the_reason(slack) -> None:  # noqa: ANN001
    from tautan.core.model import Event

    slack.fake.users["U1"] = {"is_admin": True}
    slack.command("help")
    workspace = SlackStore(slack.container.engine).workspace("T1")
    assert workspace is not None
    supplier_asks(slack, workspace.company_id, "CV Baru")
    (request,) = services.search(slack.container.uow(), company=workspace.company_id, statuses=["requested"]).items
    url = f"{slack.fake.url}/webhook/actions/T1/U1"
    pressed = slack.interact({
        "type": "block_actions", "team": {"id": "T1", "domain": "example"},
        "user": {"id": "U1", "team_id": "T1", "username": "someone"}, "api_app_id": "A1", "token": "legacy",
        "trigger_id": "13345224609.738474920.8088930838d88f008e0", "response_url": url,
        "container": {"type": "message", "is_ephemeral": True, "message_ts": "1.2", "channel_id": "C1"},
        "actions": [{"action_id": "request_deny_reason", "block_id": f"request_actions:{request.id}",
                     "value": str(request.id), "type": "button", "action_ts": "1700000001.000200"}]})
    assert pressed.status_code == 200
    (opened,) = slack.fake.wait_for("views.open")
    view = opened["view"]
    assert "Deny the request of *CV Baru* to connect for invoice?" in "\n".join(iter_blocks_text(view["blocks"]))
    submitted = slack.interact({
        "type": "view_submission", "team": {"id": "T1", "domain": "example"},
        "user": {"id": "U1", "username": "someone", "team_id": "T1"}, "api_app_id": "A1", "token": "legacy",
        "trigger_id": "111.222.valid", "response_urls": [],
        "view": {"id": "V2", "team_id": "T1", "type": "modal", "callback_id": view["callback_id"], "blocks": [],
                 "private_metadata": view["private_metadata"], "hash": "1.a", "state": {"values": {
                     "reason": {"value": {"type": "plain_text_input", "value": "Kami sudah punya pemasok faktur."}}}}}})
    assert submitted.status_code == 200
    (answer,) = slack.fake.wait_for("webhook/actions/T1/U1")
    assert answer["text"] == "<@U1> denied the request of *CV Baru* to connect for invoice."
    with slack.container.engine.connect() as connection:
        from sqlalchemy import select

        (denied,) = connection.execute(select(Event.details).where(Event.kind == "denied")).scalars()
    assert denied["reason"] == "Kami sudah punya pemasok faktur."


def test_app_home_offers_a_language_once_to_whoever_never_chose(slack) -> None:  # noqa: ANN001
    slack.event({"type": "app_home_opened", "user": "U4", "channel": "D1", "tab": "home"})
    (first,) = slack.fake.wait_for("views.publish")
    buttons = [e for b in first["view"]["blocks"] if b["type"] == "actions" for e in b["elements"]
               if e["action_id"] == "set_language"]
    assert [(e["value"], e["text"]["text"]) for e in buttons] == [("en", "English"),
                                                                 ("id", translator("id")("Indonesian"))]
    slack.interact({
        "type": "block_actions", "team": {"id": "T1", "domain": "example"},
        "user": {"id": "U4", "team_id": "T1", "username": "someone"}, "api_app_id": "A1", "token": "legacy",
        "trigger_id": "13345224609.738474920.8088930838d88f008e0", "container": {"type": "view", "view_id": "V1"},
        "view": {"id": "V1", "type": "home", "blocks": []},
        "actions": [{"action_id": "set_language", "block_id": "home_language", "value": "id", "type": "button",
                     "action_ts": "1700000001.000200"}]})
    again = slack.fake.wait_for("views.publish", count=2)[1]["view"]
    text = "\n".join(iter_blocks_text(again["blocks"]))
    assert "set_language" not in str(again["blocks"])
    assert translator("id")("Recent activity") in text and translator("id")("Recent activity") != "Recent activity"
    store = SlackStore(slack.container.engine)
    workspace = store.workspace("T1")
    assert workspace is not None and store.user(workspace.id, "U4").lang_override == "id"  # type: ignore[union-attr]
