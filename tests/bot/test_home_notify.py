"""The App Home tab and the channel notices, through the running web app and the fake Web API.

Changes are made with the services, as any driver would; the notices are then delivered by the
notifier (or the worker) and read back from what the fake Slack received.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from tautan.core import services
from tautan.core.errors import InvalidInput
from tautan.core.i18n import translator
from tautan.core.model import Outbox, OutboxStatus, Role
from tautan.slack_store import SlackStore, Workspace
from tests.support.slack import MANY_WORKSPACES, install, iter_blocks_text


class ShiftClock:
    """The real time (Slack signatures need it), moved forward by hand."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()
        self.frozen: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return (self.frozen or dt.datetime.now(dt.timezone.utc)) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += dt.timedelta(**delta)

    def freeze(self) -> None:
        """Stop the real time here (only ``advance`` moves it): for a test of waits shorter than a
        loaded machine may take between two steps."""
        self.frozen = dt.datetime.now(dt.timezone.utc)


@pytest.fixture
def env(slack):  # noqa: ANN001, ANN201
    """The app for one bot token, a clock the test can move, and U1 an admin (installer) of T1."""
    slack.clock = ShiftClock()
    slack.container.clock = slack.clock
    slack.store = SlackStore(slack.container.engine)
    slack.fake.users["U3"] = {"locale": "id-ID"}
    return slack


@pytest.fixture
def many(make_slack):  # noqa: ANN001, ANN201
    """As ``env``, for many workspaces (OAuth): T1 and T2 installed; U5 is a member of T2."""
    slack = make_slack(**MANY_WORKSPACES)
    install(slack, "T1")
    install(slack, "T2")
    slack.fake.users["U5"] = {"team_id": "T2"}
    slack.clock = ShiftClock()
    slack.container.clock = slack.clock
    slack.store = SlackStore(slack.container.engine)
    return slack


def uow(env):  # noqa: ANN001, ANN201
    return env.container.uow()


def bind(env, team: str, company: str, *, channel: str | None = "C42", locale: str = "en",  # noqa: ANN001
         installer: str = "U1") -> Workspace:
    created = services.create_company(uow(env), name=company, actor="cli:test", via="cli", roles=[Role.CUSTOMER])
    workspace = env.store.bind(team_id=team, name=company, company_id=created.id, locale=locale,
                               installer_user_id=installer, now=env.clock())
    if channel:
        env.store.set_channel(workspace.id, channel)
        services.set_notices_wanted(uow(env), company_id=created.id, wanted=True, actor="cli:test", via="cli")
    return env.store.workspace(team)  # type: ignore[return-value]


def invite(env, workspace: Workspace, email: str, supplier: str, types: list[str], **kwargs: Any):  # noqa: ANN001, ANN201
    return services.invite(uow(env), customer=workspace.company_id, email=email, types=types, supplier_name=supplier,
                           actor=f"slack:{workspace.team_id}/U1", via="slack", **kwargs)


def supplier_asks(env, workspace: Workspace, supplier: str, types: list[str], unit: str | None = None):  # noqa: ANN001, ANN201
    with contextlib.suppress(InvalidInput):  # already there
        services.create_company(uow(env), name=supplier, actor="cli:test", via="cli", roles=[Role.SUPPLIER])
    return services.request(uow(env), supplier=supplier, customer=workspace.company_id, unit=unit, types=types,
                            actor="email:sales@example.co.id", via="email")


def notify(env) -> Any:  # noqa: ANN001
    notifier = env.container.slack_notifier()
    assert notifier is not None
    return notifier.run()


def posts(env) -> list[dict[str, Any]]:  # noqa: ANN001
    return env.fake.called("chat.postMessage")


def slack_rows(env) -> list[Outbox]:  # noqa: ANN001
    with env.container.engine.connect() as connection:
        return list(connection.execute(select(Outbox).where(Outbox.channel == "slack").order_by(Outbox.id)))


def texts(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(iter_blocks_text(blocks))


def elements(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def admin_elements(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The buttons that act on connections (the one-time language choice is everyone's)."""
    return [e for e in elements(blocks) if e["action_id"] != "set_language"]


def open_home(env, *, team: str = "T1", user: str = "U1") -> dict[str, Any]:  # noqa: ANN001
    env.fake.reset()
    assert env.event({"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"},
                     team=team).status_code == 200
    (published,) = env.fake.wait_for("views.publish")
    assert published["user_id"] == user
    view = published["view"]
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    return view


def click(env, action_id: str, value: str, *, team: str = "T1", user: str = "U1", channel: str = "C42",  # noqa: ANN001, ANN201
          blocks: list[dict[str, Any]] | None = None, home: bool = False):
    """A button pressed on a channel message, or (``home``) on the Home tab, which has no response_url."""
    if home:
        return env.interact({
            "type": "block_actions", "team": {"id": team, "domain": "example"},
            "user": {"id": user, "team_id": team, "username": "someone"}, "api_app_id": "A1", "token": "legacy",
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
            "container": {"type": "view", "view_id": "V1"},
            "view": {"id": "V1", "type": "home", "blocks": blocks or []},
            "actions": [{"action_id": action_id, "block_id": "home_invite", "value": value, "type": "button",
                         "action_ts": "1700000001.000200"}]})
    payload = {
        "type": "block_actions", "team": {"id": team, "domain": "example"},
        "user": {"id": user, "team_id": team, "username": "someone"}, "api_app_id": "A1", "token": "legacy",
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": channel,
                      "is_ephemeral": False},
        "channel": {"id": channel, "name": "procurement"},
        "message": {"type": "message", "ts": "1700000000.000100", "text": "notice", "blocks": blocks or []},
        "response_url": f"{env.fake.url}/webhook/{team}/{user}",
        "actions": [{"action_id": action_id, "block_id": "notice_actions", "value": value, "type": "button",
                     "action_ts": "1700000001.000200"}],
    }
    return env.interact(payload)


# --- App Home ---------------------------------------------------------------------------------

def test_the_home_tab_shows_the_companys_counts_requests_and_activity(many) -> None:  # noqa: ANN001
    env = many
    one = bind(env, "T1", "PT Satu")
    services.create_company(uow(env), name="Gudang Jakarta", parent=one.company_id, actor="cli:test", via="cli")
    maju = invite(env, one, "ana@pt-maju.co.id", "PT Maju", ["catalog", "order"])
    services.accept(uow(env), invitation_id=maju.id, actor="email:ana@pt-maju.co.id", via="email")
    invite(env, one, "budi@cv-lambat.co.id", "CV Lambat", ["invoice"])
    (request,) = supplier_asks(env, one, "CV Baru", ["invoice"], unit="Gudang Jakarta")
    two = bind(env, "T2", "PT Dua")
    invite(env, two, "rahasia@pt-rahasia.co.id", "PT Rahasia", ["order"])

    view = open_home(env)
    shown = texts(view["blocks"])
    assert "Connections of PT Satu" in shown
    assert "*Connected*\n2" in shown and "*Invited*\n1" in shown and "*Requested*\n1" in shown
    assert "PT Maju" in shown and "CV Lambat" in shown and "CV Baru" in shown
    assert "Gudang Jakarta" in shown, "the request went to a unit, and the counts include it"
    assert "PT Rahasia" not in shown and "PT Dua" not in shown
    buttons = {(e["action_id"], e["value"]) for e in elements(view["blocks"])}
    assert ("request_approve", str(request.id)) in buttons and ("request_deny", str(request.id)) in buttons
    assert any(action == "open_invite" for action, _ in buttons)
    # Newest first: the request, then the second invitation, then the acceptance (one line for two types).
    activity = [b["elements"][0]["text"] for b in view["blocks"][view["blocks"].index(
        next(b for b in view["blocks"] if b["type"] == "header" and b["text"]["text"] == "Recent activity")) + 1:]
        if b["type"] == "context"]
    assert activity[0].startswith("*CV Baru*: asked to connect (invoice)")
    assert activity[1].startswith("*CV Lambat*: invited (invoice)")
    assert activity[2].startswith("*PT Maju*: accepted (catalog and order)")

    other = open_home(env, team="T2")
    other_text = texts(other["blocks"])
    assert "PT Rahasia" in other_text and "*Invited*\n1" in other_text
    for name in ("PT Maju", "CV Lambat", "CV Baru", "PT Satu", "Gudang Jakarta"):
        assert name not in other_text
    assert {e["value"] for e in elements(other["blocks"]) if e["action_id"].startswith("request_")} == set()


def test_the_home_tab_speaks_the_users_language(env) -> None:  # noqa: ANN001
    one = bind(env, "T1", "PT Satu")
    maju = invite(env, one, "ana@pt-maju.co.id", "PT Maju", ["catalog", "order"])
    services.accept(uow(env), invitation_id=maju.id, actor="email:ana@pt-maju.co.id", via="email")
    view = open_home(env, user="U3")
    shown = texts(view["blocks"])
    t = translator("id")
    assert t("Connections of {company}", company="PT Satu") in shown
    assert t("Recent activity") in shown
    assert "*Terhubung*\n2" in shown
    assert "katalog dan pesanan" in shown and "disetujui" in shown
    assert "accepted" not in shown and "Connected" not in shown


def test_only_admins_get_the_buttons(env) -> None:  # noqa: ANN001
    one = bind(env, "T1", "PT Satu")
    supplier_asks(env, one, "CV Baru", ["invoice"])
    view = open_home(env, user="U2")
    assert admin_elements(view["blocks"]) == []
    assert "Only admins can invite suppliers and answer requests." in texts(view["blocks"])
    assert "CV Baru" in texts(view["blocks"])


def test_many_requests_stay_within_slacks_block_limit(env) -> None:  # noqa: ANN001
    one = bind(env, "T1", "PT Satu")
    for n in range(25):
        supplier_asks(env, one, f"Supplier {n:02d}", ["catalog", "order"])
    view = open_home(env)
    assert len(view["blocks"]) <= 100
    assert "*Supplier 24*: asked to connect (catalog and order)" in texts(view["blocks"]), "one line per request"
    assert sum(1 for e in elements(view["blocks"]) if e["action_id"] == "request_approve") == 10
    assert "1 to 10 of 50" in texts(view["blocks"])
    paging = next(b for b in view["blocks"] if b.get("block_id") == "home_paging:r")
    assert [e["action_id"] for e in paging["elements"]] == ["home_page_next"]
    assert "*Requested*\n50" in texts(view["blocks"])


def test_the_invite_button_opens_the_invite_modal(env) -> None:  # noqa: ANN001
    bind(env, "T1", "PT Satu")
    assert click(env, "open_invite", "home", user="U1", home=True).status_code == 200
    (opened,) = env.fake.wait_for("views.open")
    assert opened["trigger_id"] == "13345224609.738474920.8088930838d88f008e0"
    assert opened["view"]["type"] == "modal"


def test_a_non_admin_pressing_an_old_invite_button_gets_the_current_home(env) -> None:  # noqa: ANN001
    bind(env, "T1", "PT Satu")
    click(env, "open_invite", "home", user="U2", home=True)
    (published,) = env.fake.wait_for("views.publish")
    assert published["user_id"] == "U2" and admin_elements(published["view"]["blocks"]) == []
    assert env.fake.called("views.open") == []


def section_of(view: dict[str, Any], title: str) -> list[dict[str, Any]]:
    """The blocks of one section of the Home tab: after its header, up to the next divider."""
    blocks = view["blocks"]
    start = next(i for i, b in enumerate(blocks) if b["type"] == "header" and b["text"]["text"] == title)
    end = next((i for i in range(start + 1, len(blocks)) if blocks[i]["type"] == "divider"), len(blocks))
    return blocks[start + 1:end]


def names_in(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"].split("\n")[0] for b in blocks if b.get("block_id", "").startswith("connection:")]


def paging_of(blocks: list[dict[str, Any]]) -> dict[str, str]:
    return {e["action_id"]: e["value"] for e in elements(blocks) if e["action_id"].startswith("home_page_")}


def page_home(env, action_id: str, value: str, *, user: str = "U1") -> dict[str, Any]:  # noqa: ANN001
    env.fake.reset()
    assert click(env, action_id, value, user=user, home=True).status_code == 200
    (published,) = env.fake.wait_for("views.publish")
    assert published["user_id"] == user and len(published["view"]["blocks"]) <= 100
    return published["view"]


def test_home_sections_page_with_previous_and_next(env) -> None:  # noqa: ANN001
    one = bind(env, "T1", "PT Satu")
    for n in range(12):  # the oldest first: the newest change is shown first
        invite(env, one, f"sales@pemasok{n:02d}.co.id", f"PT Pemasok {n:02d}", ["invoice"])
    for n in range(3):
        supplier_asks(env, one, f"CV Minta {n}", ["order"])
    view = open_home(env)
    invited = section_of(view, "Invited, waiting for the supplier")
    assert names_in(invited) == [f"*PT Pemasok {n:02d}*" for n in (11, 10, 9, 8, 7)]
    assert "1 to 5 of 12" in texts(invited)
    assert list(paging_of(invited)) == ["home_page_next"]
    assert paging_of(section_of(view, "Requests waiting for an answer")) == {}, "three requests fit on one page"
    assert "Type /connect list" not in texts(view["blocks"])

    second = page_home(env, "home_page_next", paging_of(invited)["home_page_next"])
    invited = section_of(second, "Invited, waiting for the supplier")
    assert names_in(invited) == [f"*PT Pemasok {n:02d}*" for n in (6, 5, 4, 3, 2)]
    assert "6 to 10 of 12" in texts(invited)
    assert set(paging_of(invited)) == {"home_page_prev", "home_page_next"}
    assert "CV Minta 2" in texts(section_of(second, "Requests waiting for an answer")), "the other sections stay"

    third = page_home(env, "home_page_next", paging_of(invited)["home_page_next"])
    invited = section_of(third, "Invited, waiting for the supplier")
    assert names_in(invited) == ["*PT Pemasok 01*", "*PT Pemasok 00*"] and "11 to 12 of 12" in texts(invited)
    assert list(paging_of(invited)) == ["home_page_prev"]
    back = page_home(env, "home_page_prev", paging_of(invited)["home_page_prev"])
    assert "6 to 10 of 12" in texts(section_of(back, "Invited, waiting for the supplier"))


def test_home_paging_past_the_end_or_with_a_forged_value_shows_the_first_page(env) -> None:  # noqa: ANN001
    one = bind(env, "T1", "PT Satu")
    for n in range(7):
        maju = invite(env, one, f"sales@pemasok{n:02d}.co.id", f"PT Pemasok {n:02d}", ["invoice"])
        services.accept(uow(env), invitation_id=maju.id, actor=f"email:sales@pemasok{n:02d}.co.id", via="email")
    connected = section_of(open_home(env), "Connected")
    assert "1 to 5 of 7" in texts(connected)
    for value in ('{"c":99}', '{"c":0}', '{"c":-1}', '{"c":"2"}', '{"c":true}', '{"c":1e9}', '{"c":100000000000}',
                  '{"zz":2}', "[2]", "2", "not json", "", '{"c":' + "9" * 5000 + "}"):
        view = page_home(env, "home_page_next", value)
        assert "1 to 5 of 7" in texts(section_of(view, "Connected")), value
    # Everyone may read the tab page by page; only admins get the menus that change something.
    view = page_home(env, "home_page_next", '{"c":2}', user="U2")
    connected = section_of(view, "Connected")
    assert "6 to 7 of 7" in texts(connected)
    accessories = [b["accessory"] for b in connected if b.get("block_id", "").startswith("connection:")]
    assert accessories and {(a["type"], a["action_id"]) for a in accessories} == {("button", "connection_history")}


# --- channel notices --------------------------------------------------------------------------

def test_an_acceptance_of_two_types_is_one_notice_in_the_workspaces_language(env) -> None:  # noqa: ANN001
    one = bind(env, "T1", "PT Satu", locale="id")
    maju = invite(env, one, "ana@pt-maju.co.id", "PT Maju", ["catalog", "order"])
    services.accept(uow(env), invitation_id=maju.id, actor="email:ana@pt-maju.co.id", via="email")

    report = notify(env)
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    (post,) = posts(env)
    assert post["channel"] == "C42"
    t = translator("id")
    assert post["text"] == t("{supplier} accepted the invitation to connect for {types}.",
                             supplier="*PT Maju*", types="katalog dan pesanan")
    assert "katalog dan pesanan" in texts(post["blocks"])
    (headers,) = [h for path, _, h in env.fake.calls if path == "chat.postMessage"]
    assert headers["Authorization"] == "Bearer xoxb-test"
    assert [row.status for row in slack_rows(env)] == [OutboxStatus.SENT]
    assert notify(env).claimed == 0 and len(posts(env)) == 1


def test_decline_bounce_and_request_notices(env) -> None:  # noqa: ANN001
    one = bind(env, "T1", "PT Satu")
    services.create_company(uow(env), name="Gudang Jakarta", parent=one.company_id, actor="cli:test", via="cli")
    declined = invite(env, one, "ana@pt-maju.co.id", "PT Maju", ["order"])
    services.decline(uow(env), invitation_id=declined.id, actor="email:ana@pt-maju.co.id", via="email")
    bounced = invite(env, one, "nobody@cv-hilang.co.id", "CV Hilang", ["invoice"])
    services.mark_undeliverable(uow(env), invitation_id=bounced.id,
                                reason="550 5.1.1 <nobody@cv-hilang.co.id>: unknown",
                                actor="system", via="email")
    (request,) = supplier_asks(env, one, "CV Baru", ["catalog"], unit="Gudang Jakarta")

    assert notify(env).sent == 3
    declined_post, bounced_post, request_post = posts(env)
    assert declined_post["text"] == "*PT Maju* declined the invitation to connect for order."
    assert elements(declined_post["blocks"]) == []

    assert "*CV Hilang* (nobody@cv-hilang.co.id) could not be delivered" in bounced_post["text"]
    bounce_text = texts(bounced_post["blocks"])
    assert "Reason: 550 5.1.1 &lt;nobody@cv-hilang.co.id&gt;: unknown" in bounce_text
    assert [(e["action_id"], e["value"]) for e in elements(bounced_post["blocks"])] == [
        ("notice_resend", str(bounced.id))]

    assert request_post["text"] == "*CV Baru* asks to connect for catalog."
    assert "Unit: Gudang Jakarta" in texts(request_post["blocks"])
    assert [(e["action_id"], e["value"]) for e in elements(request_post["blocks"])] == [
        ("request_approve", str(request.id)), ("request_deny", str(request.id)),
        ("request_deny_reason", str(request.id))]


def test_expiry_and_renewal_notices_offer_to_send_again(env) -> None:  # noqa: ANN001
    one = bind(env, "T1", "PT Satu")
    lapsed = invite(env, one, "ana@pt-maju.co.id", "PT Maju", ["catalog", "order"])
    env.clock.advance(days=31)
    services.expire(uow(env))
    services.request_renewal(uow(env), invitation_id=lapsed.id, actor="email:ana@pt-maju.co.id", via="link")
    assert notify(env).sent == 2
    expired, renewal = posts(env)
    assert expired["text"] == "The invitation to *PT Maju* for catalog and order expired without an answer."
    assert renewal["text"] == ("*PT Maju* (ana@pt-maju.co.id) asks for a new invitation to connect for "
                               "catalog and order.")
    for post in (expired, renewal):
        assert [(e["action_id"], e["value"]) for e in elements(post["blocks"])] == [("notice_resend", str(lapsed.id))]


def test_the_worker_delivers_the_notices(env, tmp_path) -> None:  # noqa: ANN001
    from tautan.mail.transport import transport_from_url
    from tautan.worker import Worker

    one = bind(env, "T1", "PT Satu")
    maju = invite(env, one, "ana@pt-maju.co.id", "PT Maju", ["catalog"])
    services.accept(uow(env), invitation_id=maju.id, actor="email:ana@pt-maju.co.id", via="email")
    worker = Worker.from_container(env.container, transport_from_url(None, maildir=tmp_path / "sent-mail"))
    report = worker.run_once()
    assert report.sent == 2 and report.notified == 1  # the invitation and its confirmation; one notice
    assert len(posts(env)) == 1
    assert worker.run_once().notified == 0


def test_a_rate_limit_waits_for_retry_after_and_loses_nothing(env) -> None:  # noqa: ANN001
    one = bind(env, "T1", "PT Satu")
    for supplier in ("PT Maju", "CV Baru"):
        supplier_asks(env, one, supplier, ["order"])
    env.fake.rate_limit_next["chat.postMessage"] = 1
    env.clock.freeze()  # Retry-After is one second: on a busy machine real time could pass it mid-test

    first = notify(env)
    assert (first.sent, first.retrying) == (0, 2), "the second row waits with the first, Slack is not asked again"
    assert len(posts(env)) == 1
    rows = slack_rows(env)
    assert all(r.status == OutboxStatus.PENDING and r.last_error == "ratelimited" for r in rows)
    due = rows[0].next_attempt_at.replace(tzinfo=dt.timezone.utc)
    assert dt.timedelta(0) < due - env.clock() <= dt.timedelta(seconds=2), "Retry-After: 1, not minutes of backoff"

    assert notify(env).claimed == 0, "not before Retry-After"
    env.clock.advance(seconds=2)
    assert notify(env).sent == 2
    delivered = posts(env)[1:]
    assert sorted(p["text"] for p in delivered) == ["*CV Baru* asks to connect for order.",
                                                    "*PT Maju* asks to connect for order."]
    assert all(r.status == OutboxStatus.SENT for r in slack_rows(env))
    env.clock.advance(minutes=10)
    assert notify(env).claimed == 0 and len(posts(env)) == 3


def test_a_server_error_is_retried_with_backoff(env) -> None:  # noqa: ANN001
    one = bind(env, "T1", "PT Satu")
    supplier_asks(env, one, "CV Baru", ["order"])
    env.fake.fail_next["chat.postMessage"] = 1
    assert notify(env).retrying == 1
    (row,) = slack_rows(env)
    assert row.status == OutboxStatus.PENDING and "internal_error" in row.last_error
    env.clock.advance(minutes=2)
    assert notify(env).sent == 1
    assert [r.status for r in slack_rows(env)] == [OutboxStatus.SENT]


def test_a_channel_slack_refuses_keeps_the_notice_and_tells_the_admins_once(env) -> None:  # noqa: ANN001
    one = bind(env, "T1", "PT Satu", channel="CGONE")
    env.store.save_user(one.id, "U7", granted_admin=True, granted_by="U1")
    supplier_asks(env, one, "CV Baru", ["order"])
    env.fake.fail_with["chat.postMessage"] = "is_archived"
    report = notify(env)
    assert (report.sent, report.failed, report.retrying) == (0, 0, 1)
    (row,) = slack_rows(env)
    assert row.status == OutboxStatus.PENDING and "is_archived" in row.last_error
    told = [p for p in posts(env) if p["channel"] in ("U1", "U7")]
    assert sorted(p["channel"] for p in told) == ["U1", "U7"]
    assert "<#CGONE>" in told[0]["text"] and "is_archived" in told[0]["text"]
    assert any(e["action_id"] == "choose_channel" for e in elements(told[0]["blocks"]))
    assert env.store.workspace("T1").channel_error == "is_archived"  # type: ignore[union-attr]

    env.clock.advance(minutes=20)  # still broken: tried again, nobody is told twice
    assert notify(env).retrying == 1
    assert len([p for p in posts(env) if p["channel"] in ("U1", "U7")]) == 2

    home = open_home(env)
    shown = texts(home["blocks"])
    assert "cannot be posted in <#CGONE>" in shown
    assert any(e.get("action_id") == "choose_channel" for b in home["blocks"]
               for e in [b.get("accessory") or {}])

    # An admin chooses another channel from the button: the notice kept goes there.
    del env.fake.fail_with["chat.postMessage"]
    click(env, "choose_channel", "choose", home=True)
    (opened,) = env.fake.wait_for("views.open")
    assert opened["view"]["callback_id"] == "choose_channel"
    answer = env.interact({
        "type": "view_submission", "team": {"id": "T1", "domain": "example"},
        "user": {"id": "U1", "username": "someone", "team_id": "T1"}, "api_app_id": "A1", "token": "legacy",
        "trigger_id": "111.222.valid", "view": {
            "id": "V2", "team_id": "T1", "type": "modal", "callback_id": "choose_channel", "blocks": [],
            "private_metadata": "", "hash": "1.a", "state": {"values": {"channel": {"value": {
                "type": "conversations_select", "selected_conversation": "CNEW"}}}}}})
    assert answer.status_code == 200
    workspace = env.store.workspace("T1")
    assert workspace is not None and (workspace.channel_id, workspace.channel_error) == ("CNEW", None)
    env.clock.advance(minutes=20)
    assert notify(env).sent == 1
    assert [p["channel"] for p in posts(env)][-1] == "CNEW"


def test_without_a_channel_no_notice_is_queued(env) -> None:  # noqa: ANN001
    one = bind(env, "T1", "PT Satu", channel=None)
    maju = invite(env, one, "ana@pt-maju.co.id", "PT Maju", ["catalog", "order"])
    services.accept(uow(env), invitation_id=maju.id, actor="email:ana@pt-maju.co.id", via="email")
    assert notify(env).claimed == 0
    assert posts(env) == []
    assert slack_rows(env) == []  # nothing piles up that no process would ever send


def test_a_supplier_name_cannot_ping_the_channel(env) -> None:  # noqa: ANN001
    one = bind(env, "T1", "PT Satu")
    invitation = invite(env, one, "x@evil.example", "<!channel> & <@U1>", ["order"])
    services.accept(uow(env), invitation_id=invitation.id, actor="email:x@evil.example", via="email")
    notify(env)
    (post,) = posts(env)
    everything = post["text"] + texts(post["blocks"])
    assert "<!channel>" not in everything and "<@U1>" not in everything
    assert "*&lt;!channel&gt; &amp; &lt;@U1&gt;* accepted" in post["text"]
    home = texts(open_home(env)["blocks"])
    assert "<!channel>" not in home and "&lt;!channel&gt; &amp; &lt;@U1&gt;" in home


# --- the Resend button --------------------------------------------------------------------------

def _bounced(env, workspace: Workspace):  # noqa: ANN001, ANN202
    invitation = invite(env, workspace, "nobody@cv-hilang.co.id", "CV Hilang", ["invoice"])
    services.mark_undeliverable(uow(env), invitation_id=invitation.id, reason="550 unknown user", actor="system",
                                via="email")
    notify(env)
    (post,) = [p for p in posts(env) if p["channel"] == workspace.channel_id]
    return invitation, post["blocks"]


def _resent(env, invitation_id: int) -> bool:  # noqa: ANN001
    return any(e.kind == "resent" for e in services.history(uow(env), invitation_id=invitation_id))


def test_an_admin_sends_a_bounced_invitation_again_from_the_notice(env) -> None:  # noqa: ANN001
    one = bind(env, "T1", "PT Satu", locale="id")
    invitation, blocks = _bounced(env, one)
    assert click(env, "notice_resend", str(invitation.id), user="U1", blocks=blocks).status_code == 200
    (updated,) = env.fake.wait_for("chat.update")
    assert updated["channel"] == "C42" and updated["ts"] == "1700000000.000100"
    assert elements(updated["blocks"]) == [], "the button is gone"
    assert translator("id")("{user} sent the invitation again.", user="<@U1>") in texts(updated["blocks"])
    assert _resent(env, invitation.id)
    assert services.get_invitation(uow(env), invitation_id=invitation.id).status == "pending"


def test_a_non_admin_cannot_send_again(env) -> None:  # noqa: ANN001
    one = bind(env, "T1", "PT Satu")
    invitation, blocks = _bounced(env, one)
    click(env, "notice_resend", str(invitation.id), user="U2", blocks=blocks)
    (answer,) = env.fake.wait_for("webhook/T1/U2")
    assert answer["text"].startswith("Only admins of PT Satu can do this.")
    assert not _resent(env, invitation.id) and env.fake.called("chat.update") == []


def test_another_workspace_cannot_send_our_invitation_again(many) -> None:  # noqa: ANN001
    env = many
    one = bind(env, "T1", "PT Satu")
    bind(env, "T2", "PT Dua", channel="C99", installer="U5")
    invitation, blocks = _bounced(env, one)
    click(env, "notice_resend", str(invitation.id), team="T2", user="U5", channel="C99", blocks=blocks)
    (answer,) = env.fake.wait_for("webhook/T2/U5")
    assert answer["text"] == f"There is no invitation with id {invitation.id}."
    assert not _resent(env, invitation.id) and env.fake.called("chat.update") == []
