"""/connect, the invite form and the buttons, through signed requests to the running app; what
the user sees is read from the fake Slack (response_url posts, views.open, chat.postMessage)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from tautan.bot import blocks as b
from tautan.core import services
from tautan.core.i18n import translator
from tautan.core.model import Connection, DocumentType, Event, Invitation, Role
from tautan.core.views import ConnectionView, InvitationView
from tautan.slack_store import SlackStore
from tests.support.slack import MANY_WORKSPACES, install, iter_blocks_text

ADMIN, MEMBER = "U1", "U2"


# --- helpers -----------------------------------------------------------------------------------

def text_of(post: dict[str, Any]) -> str:
    return "\n".join([post.get("text") or "", *iter_blocks_text(post.get("blocks") or [])])


def ask(slack, text: str, *, user: str = ADMIN, team: str = "T1", channel: str = "C1") -> dict[str, Any]:  # noqa: ANN001
    """Type ``/connect <text>``; the answer the user gets through the response_url."""
    path = f"webhook/{team}/{user}"
    before = len(slack.fake.called(path))
    response = slack.command(text, user=user, team=team, channel=channel)
    assert response.status_code == 200 and response.text == ""
    return slack.fake.wait_for(path, before + 1)[before]


def opened(slack, text: str, *, user: str = ADMIN, team: str = "T1") -> dict[str, Any]:  # noqa: ANN001
    """Type ``/connect <text>`` that shows something in a modal; the modal, as a message (title, blocks)."""
    before = len(slack.fake.called("views.open"))
    assert slack.command(text, user=user, team=team).status_code == 200
    view = slack.fake.wait_for("views.open", before + 1)[before]["view"]
    assert view["type"] == "modal" and len(view["title"]["text"]) <= 24
    return {"text": view["title"]["text"], "blocks": view["blocks"]}


def actions_payload(action: dict[str, Any], *, user: str = ADMIN, team: str = "T1", **extra: Any) -> dict[str, Any]:
    """A block_actions payload, by default from an ephemeral message in channel C1."""
    return {"type": "block_actions", "team": {"id": team, "domain": "example"},
            "user": {"id": user, "username": "someone", "team_id": team}, "api_app_id": "A1", "token": "legacy",
            "trigger_id": "111.222.valid",
            "container": {"type": "message", "message_ts": "111.222", "channel_id": "C1", "is_ephemeral": True},
            "channel": {"id": "C1", "name": "procurement"}, "actions": [{**action, "action_ts": "1596530385.194939"}],
            **extra}


def press(slack, action: dict[str, Any], *, user: str = ADMIN, team: str = "T1") -> dict[str, Any]:  # noqa: ANN001
    """Press a button or choose in a menu of an ephemeral message; what comes back through its response_url."""
    path = f"webhook/actions/{team}/{user}"
    before = len(slack.fake.called(path))
    response = slack.interact(actions_payload(action, user=user, team=team,
                                              response_url=f"{slack.fake.url}/{path}"))
    assert response.status_code == 200
    return slack.fake.wait_for(path, before + 1)[before]


def confirm_in_form(slack, action: dict[str, Any], names: str, *, reason: str | None = None,  # noqa: ANN001
                    user: str = ADMIN, team: str = "T1") -> dict[str, Any]:
    """Choose in a row menu, see the confirmation form name the partner, submit it (with a reason);
    returns the answer that then comes through the list's response_url."""
    path = f"webhook/actions/{team}/{user}"
    before, opened = len(slack.fake.called(path)), len(slack.fake.called("views.open"))
    response = slack.interact(actions_payload(action, user=user, team=team, response_url=f"{slack.fake.url}/{path}"))
    assert response.status_code == 200
    view = slack.fake.wait_for("views.open", opened + 1)[opened]["view"]
    assert names in text_of({"blocks": view["blocks"]})
    values = {"reason": {"value": {"type": "plain_text_input", "value": reason}}} if reason else {}
    payload = {"type": "view_submission", "team": {"id": team, "domain": "example"},
               "user": {"id": user, "username": "someone", "team_id": team}, "api_app_id": "A1", "token": "legacy",
               "trigger_id": "111.222.valid",
               "view": {"id": "V2", "team_id": team, "type": "modal", "callback_id": view["callback_id"],
                        "blocks": [], "private_metadata": view["private_metadata"], "state": {"values": values},
                        "hash": "1.a"}, "response_urls": []}
    assert slack.interact(payload).status_code == 200
    return slack.fake.wait_for(path, before + 1)[before]


def button(action_id: str, value: str) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "block_id": "b", "value": value,
            "text": {"type": "plain_text", "text": "x"}}


def menu(value: str) -> dict[str, Any]:
    return {"type": "overflow", "action_id": "row_menu", "block_id": "connection:1",
            "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": value}}


def form(emails: str = "", *, name: str | None = None, types: tuple[str, ...] = ("invoice",), lang: str = "auto",
         unit: int | None = None, message: str | None = None) -> dict[str, Any]:
    def selected(value: str) -> dict[str, Any]:
        return {"value": value, "text": {"type": "plain_text", "text": value}}

    values = {"emails": {"value": {"type": "plain_text_input", "value": emails}},
              "supplier_name": {"value": {"type": "plain_text_input", "value": name}},
              "types": {"value": {"type": "checkboxes", "selected_options": [selected(c) for c in types]}},
              "lang": {"value": {"type": "static_select", "selected_option": selected(lang)}},
              "message": {"value": {"type": "plain_text_input", "value": message}}}
    if unit is not None:
        values["unit"] = {"value": {"type": "static_select", "selected_option": selected(str(unit))}}
    return values


def submit(slack, values: dict[str, Any], *, user: str = ADMIN, team: str = "T1",  # noqa: ANN001
           metadata: str = '{"lang":"en"}'):  # noqa: ANN201
    payload = {"type": "view_submission", "team": {"id": team, "domain": "example"},
               "user": {"id": user, "username": "someone", "team_id": team}, "api_app_id": "A1",
               "token": "legacy", "trigger_id": "111.222.valid",
               "view": {"id": "V1", "team_id": team, "type": "modal", "callback_id": "invite", "blocks": [],
                        "private_metadata": metadata, "state": {"values": values}, "hash": "1.a"},
               "response_urls": []}
    return slack.interact(payload)


def bind(slack, team: str = "T1", admin: str = ADMIN):  # noqa: ANN001, ANN201
    """The workspace, bound to its company by a first command; ``admin`` is a Slack admin."""
    slack.fake.users[admin] = {**slack.fake.users.get(admin, {}), "is_admin": True}
    ask(slack, "help", user=admin, team=team)
    workspace = SlackStore(slack.container.engine).workspace(team)
    assert workspace is not None
    return workspace


def two_workspaces(make_slack, other: str = "U7"):  # noqa: ANN001, ANN201
    """The app installed in two workspaces, T1 bound to its company by ``ADMIN``; ``other`` is a
    member of T2 (binding T2 is left to the test). Returns the app and T1's workspace."""
    slack = make_slack(**MANY_WORKSPACES)
    install(slack, "T1")
    install(slack, "T2")
    slack.fake.users[other] = {"team_id": "T2"}
    return slack, bind(slack, "T1", ADMIN)


def invite(slack, company_id: int, email: str, *, types: tuple[str, ...] = ("invoice",),  # noqa: ANN001
           **kwargs: Any) -> InvitationView:
    return services.invite(slack.container.uow(), customer=company_id, email=email, types=list(types),
                           actor="slack:T1/U1", via="slack", **kwargs)


def connected(slack, company_id: int, email: str, **kwargs: Any) -> ConnectionView:  # noqa: ANN001
    view = invite(slack, company_id, email, **kwargs)
    accepted = services.accept(slack.container.uow(), invitation_id=view.id, actor=f"email:{email}", via="email")
    return accepted.connections[0]


def supplier_request(slack, company_id: int, name: str, types: tuple[str, ...] = ("invoice",)) -> list[ConnectionView]:  # noqa: ANN001
    supplier = services.create_company(slack.container.uow(), name=name, roles=[Role.SUPPLIER], actor="cli:test",
                                       via="cli")
    return services.request(slack.container.uow(), supplier=supplier.id, customer=company_id, types=list(types),
                            actor="email:sales@pemasok.co.id", via="email")


def rows(slack, model: type) -> list[Any]:  # noqa: ANN001
    with slack.container.uow() as uow:
        found = list(uow.session.scalars(select(model).order_by(model.id)))
        uow.session.expunge_all()
        return found


def type_codes(slack) -> dict[int, str]:  # noqa: ANN001
    return {t.id: t.code for t in rows(slack, DocumentType)}


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """For work a listener finishes after its last call to Slack."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.02)


def status_of(slack, connection_id: int) -> str:  # noqa: ANN001
    return next(c.status for c in rows(slack, Connection) if c.id == connection_id)


def invitation_status(slack, invitation_id: int) -> str:  # noqa: ANN001
    return next(i.status for i in rows(slack, Invitation) if i.id == invitation_id)


def action_values(post: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for block in post.get("blocks") or []:
        elements = block.get("elements", []) if block["type"] == "actions" else [block.get("accessory") or {}]
        for element in elements:
            if element.get("type") == "button":
                found.append((element["action_id"], element["value"]))
            for opt in element.get("options", []) if element.get("type") == "overflow" else []:
                found.append((element["action_id"], opt["value"]))
    return found


# --- Block Kit builders, as data -------------------------------------------------------------------

def test_escape_makes_mentions_and_links_inert() -> None:
    assert b.escape("<!channel> & <@U1|x> <https://evil|y>") == "&lt;!channel&gt; &amp; &lt;@U1|x&gt; &lt;https://evil|y&gt;"
    assert b.escape("*bold* _it_ ~s~ `c`") == "*bold* _it_ ~s~ `c`"  # only & < > have escapes
    assert b.cut(b.escape("a" * 10 + "&&&"), 14) == "a" * 10 + "…"  # never half an entity
    assert len(b.section("x" * 5000)["text"]["text"]) == 3000


def test_paging_values_round_trip_and_bad_values_read_as_the_first_page() -> None:
    value = b.page_value(page=3, statuses=["invited"], types=["invoice"], partner="maju")
    assert json.loads(value) == {"p": 3, "s": ["invited"], "t": ["invoice"], "q": "maju"}
    assert b.read_page_value(value) == {"page": 3, "statuses": ["invited"], "types": ["invoice"], "partner": "maju"}
    assert b.read_page_value("not json")["page"] == 1
    assert b.read_page_value('{"p": -4}')["page"] == 1
    t = translator("en")
    assert b.paging(t, page=1, pages=1) is None
    assert [e["action_id"] for e in b.paging(t, page=2, pages=3)["elements"]] == ["page_prev", "page_next"]


def test_sections_split_long_text_under_the_limit() -> None:
    blocks = b.sections(["x" * 1000] * 7)
    assert len(blocks) == 4 and all(len(s["text"]["text"]) <= 3000 for s in blocks)


# --- help, and user errors as ephemeral messages ---------------------------------------------------

def test_help_and_unknown_subcommands_answer_with_the_help(slack) -> None:  # noqa: ANN001
    answer = ask(slack, "help")
    assert answer["response_type"] == "ephemeral"
    assert "/connect list [status] [type] [partner]" in text_of(answer)
    unknown = ask(slack, "frobnicate <!here>")
    assert "There is no command frobnicate." in text_of(unknown)
    assert "/connect requests" in text_of(unknown)


def test_user_errors_come_back_as_ephemeral_localized_messages(slack) -> None:  # noqa: ANN001
    bind(slack)
    missing = ask(slack, "cancel 99999")
    assert missing["response_type"] == "ephemeral" and missing["text"] == "There is no invitation with id 99999."
    assert ask(slack, "cancel abc")["text"] == "abc is not an id. Ids are whole numbers, as shown by /connect list."
    assert ask(slack, "resend")["text"] == "Say which invitation, for example /connect resend 12."
    assert ask(slack, "show", user=MEMBER)["text"] == ("Say what to show, for example /connect show 12 or "
                                                       "/connect show maju.")
    assert "Unknown document type pizza" in ask(slack, "invite bob@example.com pizza")["text"]
    slack.fake.users["U3"] = {"locale": "id-ID"}
    assert ask(slack, "show 99999", user="U3")["text"] == "Tidak ada undangan dengan ID 99999."


# --- the invite form ------------------------------------------------------------------------------

def test_connect_alone_or_invite_opens_the_invite_modal(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    unit = services.create_company(slack.container.uow(), name="Gudang Surabaya", parent=workspace.company_id,
                                   actor="cli:test", via="cli")
    assert slack.command("").status_code == 200
    opened = slack.fake.wait_for("views.open")[0]
    assert opened["trigger_id"] == "13345224609.738474920.8088930838d88f008e0"
    view = opened["view"]
    assert view["type"] == "modal" and view["callback_id"] == "invite"
    by_id = {block["block_id"]: block for block in view["blocks"]}
    assert list(by_id) == ["emails", "supplier_name", "types", "lang", "unit", "message"]
    assert by_id["emails"]["element"]["multiline"] is True and not by_id["emails"]["optional"]
    assert [o["value"] for o in by_id["types"]["element"]["options"]] == ["catalog", "order", "invoice"]
    assert [o["value"] for o in by_id["types"]["element"]["initial_options"]] == ["invoice"]
    assert by_id["lang"]["element"]["initial_option"]["value"] == "auto", "automatic (from the address) is the default"
    assert by_id["unit"]["optional"] and by_id["unit"]["element"]["options"][0]["value"] == str(unit.id)
    assert by_id["message"]["element"]["max_length"] == 2000 and by_id["message"]["optional"]
    assert json.loads(view["private_metadata"]) == {"lang": "en"}
    assert len(view["title"]["text"]) <= 24 and len(view["submit"]["text"]) <= 24

    slack.fake.users["U4"] = {"locale": "id-ID", "is_admin": True}
    assert slack.command("invite", user="U4").status_code == 200
    indonesian = slack.fake.wait_for("views.open", 2)[1]["view"]
    types = next(block for block in indonesian["blocks"] if block["block_id"] == "types")
    assert [o["text"]["text"] for o in types["element"]["options"]] == ["katalog", "pesanan", "faktur"]
    assert next(block for block in indonesian["blocks"]
                if block["block_id"] == "lang")["element"]["initial_option"]["value"] == "auto"


def test_a_valid_form_invites_each_address_and_sends_a_summary(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    unit = services.create_company(slack.container.uow(), name="Gudang Surabaya", parent=workspace.company_id,
                                   actor="cli:test", via="cli")
    emails = "ana@pt-maju.co.id\n\nbob@example.com, ANA@pt-maju.co.id"
    response = submit(slack, form(emails, types=("order", "invoice"), message="Salam", unit=unit.id))
    assert response.status_code == 200 and response.text == ""
    summary = slack.fake.wait_for("chat.postMessage")[0]
    assert summary["channel"] == ADMIN
    assert "Invited: 2 · already invited: 0 · not invited: 0." in text_of(summary)
    invitations = rows(slack, Invitation)
    assert [(i.email, i.lang, i.customer_id, i.message) for i in invitations] == [
        ("ana@pt-maju.co.id", "id", unit.id, "Salam"), ("bob@example.com", "en", unit.id, "Salam")]
    codes = type_codes(slack)
    assert sorted((codes[c.type_id], c.status) for c in rows(slack, Connection)
                  if c.invitation_id == invitations[0].id) == [("invoice", "invited"), ("order", "invited")]
    assert {e.actor for e in rows(slack, Event) if e.kind == "invited"} == {"slack:T1/U1"}

    # Chosen explicitly (not the default): every address gets that language. An open one is kept.
    submit(slack, form("carol@example.com\nbob@example.com", lang="id", types=("invoice",), unit=unit.id))
    again = slack.fake.wait_for("chat.postMessage", 2)[1]
    assert "Invited: 1 · already invited: 1 · not invited: 0." in text_of(again)
    assert "bob@example.com: already has an open invitation" in text_of(again)
    assert next(i for i in rows(slack, Invitation) if i.email == "carol@example.com").lang == "id"


def test_an_invalid_form_shows_errors_in_the_form(slack) -> None:  # noqa: ANN001
    bind(slack)

    def errors(values: dict[str, Any]) -> dict[str, str]:
        response = submit(slack, values)
        assert response.status_code == 200
        body = response.json()
        assert body["response_action"] == "errors"
        return body["errors"]

    assert errors(form("  \n ")) == {"emails": "Enter at least one email address."}
    assert errors(form("ana@pt-maju.co.id\nnot-an-email")) == {
        "emails": "Line 2: not-an-email is not a valid email address."}
    many = "\n".join(f"s{i}@example.com" for i in range(101))
    assert errors(form(many)) == {"emails": "At most 100 addresses at a time; this list has 101."}
    assert errors(form("ana@pt-maju.co.id", types=())) == {"types": "Choose at least one document type."}
    assert errors(form("ana@pt-maju.co.id", unit=424242)) == {"unit": "Choose one of the units in the list."}
    refused = submit(slack, form("ana@pt-maju.co.id"), user=MEMBER).json()
    assert "Only admins" in refused["errors"]["emails"]
    assert rows(slack, Invitation) == [] and slack.fake.called("chat.postMessage") == []


def test_invite_without_the_form(slack) -> None:  # noqa: ANN001
    bind(slack)
    answer = ask(slack, "invite <mailto:ana@pt-maju.co.id|ana@pt-maju.co.id> invoice,order")
    assert "ana@pt-maju.co.id: invited for order and invoice" in text_of(answer)
    assert "Invited: 1" in text_of(answer)
    ask(slack, "invite bob@example.com")
    ask(slack, "invite not-an-address@")
    invitations = rows(slack, Invitation)
    assert [(i.email, i.lang) for i in invitations] == [("ana@pt-maju.co.id", "id"), ("bob@example.com", "en")]
    codes = type_codes(slack)
    types: dict[int, set[str]] = {}
    for c in rows(slack, Connection):
        types.setdefault(c.invitation_id, set()).add(codes[c.type_id])
    assert types == {invitations[0].id: {"order", "invoice"}, invitations[1].id: {"invoice"}}


def test_members_who_are_not_admins_are_refused_politely(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    view = invite(slack, workspace.company_id, "ana@pt-maju.co.id")
    refusal = ask(slack, "", user=MEMBER)
    assert refusal["response_type"] == "ephemeral"
    assert refusal["text"] == ("Only admins of Example Workspace can do this. "
                               "Ask an admin to add you with /connect admin add.")
    assert slack.fake.called("views.open") == []
    for command in ("invite bob@example.com", f"cancel {view.id}", f"resend {view.id}", "channel",
                    "lang company id", "admin add <@U2>"):
        assert ask(slack, command, user=MEMBER)["text"].startswith("Only admins"), command
    assert invitation_status(slack, view.id) == "pending"
    assert press(slack, menu(f"cancel:{view.id}"), user=MEMBER)["text"].startswith("Only admins")
    assert invitation_status(slack, view.id) == "pending"
    # Reading is for everyone: the list, without the menu items that change something (History alone:
    # a plain button rather than a menu of one).
    listing = ask(slack, "list", user=MEMBER)
    assert action_values(listing) == [("partner_history", str(view.supplier_id))]


# --- list and paging ------------------------------------------------------------------------------

def test_list_pages_with_next_and_previous_and_filters(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    views = [invite(slack, workspace.company_id, f"sales{i:02d}@pemasok{i:02d}.co.id",
                    supplier_name=f"PT Pemasok {i:02d}") for i in range(12)]
    first = ask(slack, "list")
    partner_rows = [block for block in first["blocks"] if block.get("block_id", "").startswith("partner:")]
    assert len(partner_rows) == 10 and len(first["blocks"]) <= 50
    assert "Page 1 of 2 · 12 suppliers in all." in text_of(first)
    assert "*PT Pemasok 11*" in partner_rows[0]["text"]["text"]
    assert "invoice: invited\nLast change" in partner_rows[0]["text"]["text"]
    menu_values = [o["value"] for o in partner_rows[0]["accessory"]["options"]]
    newest = views[-1]
    assert menu_values == [f"resend:{newest.id}", f"cancel:{newest.id}", f"partner:{newest.supplier_id}"]
    (next_action, next_value), = [a for a in action_values(first) if a[0] != "row_menu"]
    assert next_action == "page_next"

    second = press(slack, button("page_next", next_value))
    assert second["replace_original"] is True and second["response_type"] == "ephemeral"
    assert "Page 2 of 2 · 12 suppliers in all." in text_of(second)
    assert "PT Pemasok 00" in text_of(second) and "PT Pemasok 11" not in text_of(second)
    (prev_action, prev_value), = [a for a in action_values(second) if a[0] != "row_menu"]
    assert prev_action == "page_prev"
    back = press(slack, button("page_prev", prev_value))
    assert "Page 1 of 2" in text_of(back) and "PT Pemasok 11" in text_of(back)

    assert "No connections match." in text_of(ask(slack, "list connected"))
    filtered = ask(slack, "list invited invoice Pemasok 03")
    assert "Page 1 of 1 · 1 supplier in all." in text_of(filtered) and "PT Pemasok 03" in text_of(filtered)
    assert "Filtered by invited, invoice, and “Pemasok 03”." in text_of(filtered)
    filtered_next = ask(slack, "list invited pemasok")
    value = dict(action_values(filtered_next))["page_next"]
    assert b.read_page_value(value) == {"page": 2, "statuses": ["invited"], "types": [], "partner": "pemasok"}


# --- the row menu ---------------------------------------------------------------------------------

def test_row_menu_resends_cancels_disconnects_and_shows_history(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    ana = invite(slack, workspace.company_id, "ana@pt-maju.co.id", supplier_name="PT Maju")
    bob = connected(slack, workspace.company_id, "bob@example.com", supplier_name="Bob Trading")

    resent = press(slack, menu(f"resend:{ana.id}"))
    assert resent["text"] == f"Invitation {ana.id} to PT Maju will be sent again."
    assert resent["replace_original"] is False
    assert any(e.kind == "resent" and e.invitation_id == ana.id for e in rows(slack, Event))

    cancelled = confirm_in_form(slack, menu(f"cancel:{ana.id}"), "PT Maju (ana@pt-maju.co.id)")
    assert cancelled["text"] == f"Invitation {ana.id} to PT Maju is cancelled."
    assert invitation_status(slack, ana.id) == "cancelled"
    again = press(slack, menu(f"cancel:{ana.id}"))
    assert again["text"] == "This invitation is already closed: cancelled."

    gone = confirm_in_form(slack, menu(f"disconnect:{bob.id}"), "Disconnect *Bob Trading* for invoice?",
                           reason="Kontrak berakhir")
    assert gone["text"] == "Bob Trading and Example Workspace are no longer connected for invoice."
    assert status_of(slack, bob.id) == "disconnected"
    (ended,) = [e for e in rows(slack, Event) if e.kind == "disconnected"]
    assert ended.details["reason"] == "Kontrak berakhir"

    before = len(slack.fake.called("views.open"))
    assert slack.interact(actions_payload(menu(f"history:{bob.id}"))).status_code == 200
    history = slack.fake.wait_for("views.open", before + 1)[before]["view"]
    assert history["title"]["text"] == "History"
    shown = text_of(history)
    assert "History:" in shown
    assert "invited (invoice) · by <@U1> via Slack" in shown
    assert "accepted (invoice) · by bob@example.com via email" in shown
    assert "disconnected (invoice) · by <@U1> via Slack" in shown


# --- supplier requests ----------------------------------------------------------------------------

def test_requests_are_approved_or_denied_once(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    (first,) = supplier_request(slack, workspace.company_id, "PT Satu")
    (second,) = supplier_request(slack, workspace.company_id, "PT Dua", types=("order",))
    listing = ask(slack, "requests")
    assert "Supplier requests waiting for an answer: 2" in text_of(listing)
    assert "*PT Satu* asks to connect for invoice." in text_of(listing)
    assert set(action_values(listing)) == {(action, str(c.id)) for c in (first, second)
                                           for action in ("request_approve", "request_deny", "request_deny_reason")}
    assert action_values(ask(slack, "requests", user=MEMBER)) == []  # members see, admins answer

    approved = press(slack, button("request_approve", str(first.id)))
    assert approved["replace_original"] is True
    assert "Approved by <@U1>." in text_of(approved)
    assert "Supplier requests waiting for an answer: 1" in text_of(approved)
    assert ("request_approve", str(first.id)) not in action_values(approved)
    assert status_of(slack, first.id) == "connected"
    events = len(rows(slack, Event))

    twice = press(slack, button("request_approve", str(first.id)))
    assert twice["replace_original"] is False
    assert twice["text"] == "This request was already answered; it is now connected."
    assert len(rows(slack, Event)) == events

    refused = press(slack, button("request_deny", str(second.id)), user=MEMBER)
    assert refused["text"].startswith("Only admins") and status_of(slack, second.id) == "requested"
    denied = press(slack, button("request_deny", str(second.id)))
    assert "Denied by <@U1>." in text_of(denied) and status_of(slack, second.id) == "rejected"
    assert "No supplier is waiting for an answer." in text_of(ask(slack, "requests"))


def test_a_request_answered_from_a_channel_notice_updates_the_notice(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    (request,) = supplier_request(slack, workspace.company_id, "PT Satu")
    notice = [{"type": "section", "block_id": "notice", "text": {"type": "mrkdwn", "text": "*PT Satu* asks"}},
              {"type": "actions", "block_id": f"notice_actions:{request.id}", "elements": []}]
    payload = actions_payload({**button("request_approve", str(request.id)), "block_id": f"notice_actions:{request.id}"},
                              container={"type": "message", "message_ts": "123.456", "channel_id": "C9",
                                         "is_ephemeral": False},
                              channel={"id": "C9", "name": "pengadaan"},
                              message={"type": "message", "ts": "123.456", "text": "PT Satu asks", "blocks": notice},
                              response_url=f"{slack.fake.url}/webhook/notice")
    assert slack.interact(payload).status_code == 200
    updated = slack.fake.wait_for("chat.update")[0]
    assert (updated["channel"], updated["ts"]) == ("C9", "123.456")
    assert updated["blocks"] == [notice[0], b.context("Approved by <@U1>.")]
    assert status_of(slack, request.id) == "connected"
    assert slack.interact(payload).status_code == 200  # a second admin on the same notice
    assert slack.fake.wait_for("webhook/notice")[0]["text"] == \
        "This request was already answered; it is now connected."


def test_buttons_on_the_app_home_answer_without_a_response_url(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    (request,) = supplier_request(slack, workspace.company_id, "PT Satu")
    home = {"container": {"type": "view", "view_id": "V9"}, "view": {"id": "V9", "type": "home", "blocks": []}}
    payload = actions_payload(button("request_deny", str(request.id)), **home)
    payload.pop("channel")
    assert slack.interact(payload).status_code == 200
    slack.fake.wait_for("views.publish")
    assert status_of(slack, request.id) == "rejected"
    history = actions_payload(menu(f"history:{request.id}"), **home)
    assert slack.interact(history).status_code == 200
    (shown,) = slack.fake.wait_for("views.open")
    assert "denied (invoice) · by <@U1> via Slack" in text_of(shown["view"])


def test_a_long_summary_stays_short() -> None:
    from tautan.bot.modal import Outcome, summary_message

    message = summary_message(translator("en"), [Outcome(email=f"s{i}@example.com", error="Nope.") for i in range(60)])
    text = text_of(message)
    assert "Invited: 0 · already invited: 0 · not invited: 60." in text
    assert text.count("not invited. Nope.") == 39 and "… and 21 more." in text
    assert len(message["blocks"]) <= 50 and len(json.dumps(message)) < 12000


# --- resend, cancel, show -------------------------------------------------------------------------

def test_resend_and_cancel_commands(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    view = invite(slack, workspace.company_id, "ana@pt-maju.co.id", supplier_name="PT Maju")
    assert ask(slack, f"resend {view.id}")["text"] == f"Invitation {view.id} to PT Maju will be sent again."
    assert ask(slack, f"cancel #{view.id}")["text"] == f"Invitation {view.id} to PT Maju is cancelled."
    assert invitation_status(slack, view.id) == "cancelled"
    assert [e.actor for e in rows(slack, Event) if e.kind in ("resent", "cancelled")] == ["slack:T1/U1"] * 2


def test_show_an_invitation_or_a_partner_with_history(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    view = invite(slack, workspace.company_id, "ana@pt-maju.co.id", supplier_name="PT Maju Jaya",
                  types=("order", "invoice"), message="Salam <@U999> & <https://evil.example|klik>")
    shown = opened(slack, f"show {view.id}")
    text = text_of(shown)
    assert f"Invitation {view.id} from Example Workspace to PT Maju Jaya &lt;ana@pt-maju.co.id&gt;" in text
    assert "Document types: order and invoice" in text and "Status: waiting for an answer" in text
    assert "Language of the invitation: Indonesian" in text
    assert "Message: Salam &lt;@U999&gt; &amp; &lt;https://evil.example|klik&gt;" in text
    assert "<@U999>" not in json.dumps(shown) and "<https://evil" not in json.dumps(shown)
    assert "invited (order) · by <@U1> via Slack" in text and "invited (invoice)" in text
    assert len(shown["blocks"]) <= 50

    partner = text_of(opened(slack, "show maju"))
    assert "PT Maju Jaya" in partner and "History:" in partner and "order: invited" in partner
    assert "No connections match." in text_of(ask(slack, "show nothing like this"))
    invite(slack, workspace.company_id, "info@maju-makmur.com", supplier_name="PT Maju Makmur")
    several = ask(slack, "show maju")
    assert "Several partners match maju: PT Maju Jaya and PT Maju Makmur." in text_of(several)
    assert "PT Maju Makmur" in text_of(opened(slack, "show pt maju makmur"))


# --- channel, language, admins --------------------------------------------------------------------

def test_channel_and_languages(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    store = SlackStore(slack.container.engine)
    slack.command("channel", channel="C42")
    posted = slack.fake.wait_for("chat.postMessage")[0]
    assert posted["channel"] == "C42" and "This channel will now receive the notices of Example Workspace" in posted["text"]
    eventually(lambda: store.workspace("T1").channel_id == "C42")
    assert ask(slack, "channel", channel="D77")["text"] == \
        "Type this command in the channel that should receive the notices."
    slack.fake.fail_next["chat.postMessage"] = 1
    assert ask(slack, "channel", channel="C43")["text"].startswith("I cannot post in this channel.")
    assert store.workspace("T1").channel_id == "C42"

    assert ask(slack, "lang")["text"] == ("You see Tautan in English, the language of your Slack settings. "
                                          "Change it with /connect lang en or /connect lang id.")
    ask(slack, "lang id")
    assert store.user(workspace.id, ADMIN).lang_override == "id"
    assert ask(slack, "show 99999")["text"] == "Tidak ada undangan dengan ID 99999."
    ask(slack, "lang auto")
    assert store.user(workspace.id, ADMIN).lang_override is None
    assert ask(slack, "show 99999")["text"] == "There is no invitation with id 99999."
    assert ask(slack, "lang klingon")["text"] == "Unsupported language klingon. Choose en or id."

    assert ask(slack, "lang company")["text"] == "Notices in the channel are in English."
    ask(slack, "lang company id")
    assert store.workspace("T1").locale == "id"


def test_admins_are_added_listed_and_removed(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    view = invite(slack, workspace.company_id, "ana@pt-maju.co.id")
    assert ask(slack, "admin list")["text"].startswith("No one has been added as an admin yet.")
    assert ask(slack, "admin add")["text"] == "Mention the people, for example /connect admin add @ana."
    assert ask(slack, "admin add <@U5|bob> <@U6>")["text"] == "<@U5> and <@U6> may now invite suppliers and answer requests."
    assert ask(slack, "admin list")["text"].startswith("Admins added in Tautan: <@U5> and <@U6>.")
    assert ask(slack, f"resend {view.id}", user="U5")["text"].startswith(f"Invitation {view.id}")
    ask(slack, "admin remove <@U5>")
    assert ask(slack, f"resend {view.id}", user="U5")["text"].startswith("Only admins")
    store = SlackStore(slack.container.engine)
    assert store.admins(workspace.id) == ["U6"]


# --- languages and workspaces -----------------------------------------------------------------------

def test_an_indonesian_user_reads_indonesian(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    invite(slack, workspace.company_id, "ana@pt-maju.co.id", supplier_name="PT Maju")
    slack.fake.users[MEMBER] = {"locale": "id-ID"}
    listing = text_of(ask(slack, "list", user=MEMBER))
    assert "Halaman 1 dari 1 · total pemasok: 1." in listing
    assert "faktur: diundang" in listing
    filtered = text_of(ask(slack, "list terhubung", user=MEMBER))
    assert "Tidak ada koneksi yang sesuai." in filtered
    assert ask(slack, "show 4242", user=MEMBER)["text"] == "Tidak ada undangan dengan ID 4242."


def test_a_second_workspace_neither_sees_nor_touches_the_first_ones_data(make_slack) -> None:  # noqa: ANN001
    slack, one = two_workspaces(make_slack)
    view = invite(slack, one.company_id, "ana@pt-maju.co.id", supplier_name="PT Maju")
    link = connected(slack, one.company_id, "bob@example.com", supplier_name="Bob Trading")
    (asked,) = supplier_request(slack, one.company_id, "PT Satu")
    two = bind(slack, "T2", "U7")
    assert two.company_id != one.company_id

    def as_two(text: str) -> str:
        return text_of(ask(slack, text, user="U7", team="T2"))

    assert "No connections match." in as_two("list") and "PT Maju" not in as_two("list")
    assert "No connections match." in as_two("show maju")
    assert "No supplier is waiting for an answer." in as_two("requests")
    for command in (f"show {view.id}", f"resend {view.id}", f"cancel {view.id}"):
        assert as_two(command).strip() == f"There is no invitation with id {view.id}.", command

    def press_two(action: dict[str, Any]) -> str:
        return press(slack, action, user="U7", team="T2")["text"]

    assert press_two(menu(f"cancel:{view.id}")) == f"There is no invitation with id {view.id}."
    assert press_two(menu(f"resend:{view.id}")) == f"There is no invitation with id {view.id}."
    assert press_two(menu(f"disconnect:{link.id}")) == f"There is no connection with id {link.id}."
    assert press_two(menu(f"history:{link.id}")) == f"There is no connection with id {link.id}."
    assert press_two(button("request_approve", str(asked.id))) == f"There is no connection with id {asked.id}."
    assert press_two(button("request_deny", str(asked.id))) == f"There is no connection with id {asked.id}."
    assert invitation_status(slack, view.id) == "pending"
    assert (status_of(slack, link.id), status_of(slack, asked.id)) == ("connected", "requested")
    assert not any(e.kind == "resent" for e in rows(slack, Event))
    assert all(c.customer_id == one.company_id for c in rows(slack, Connection))


def test_a_supplier_named_channel_pings_nobody(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    submit(slack, form("x@evil.example", name="<!channel>", message="<!here> & <@U1>"))
    summary = slack.fake.wait_for("chat.postMessage")[0]
    assert "Invited: 1" in text_of(summary)
    listing = ask(slack, "list")
    assert "*&lt;!channel&gt;*" in text_of(listing)
    opened(slack, "show channel")
    view = rows(slack, Invitation)[0]
    opened(slack, f"show {view.id}")
    (request,) = supplier_request(slack, workspace.company_id, "<!everyone> <@U1>")
    ask(slack, "requests")
    press(slack, button("request_approve", str(request.id)))
    seen = [json.dumps(params) for path, params, _ in slack.fake.calls
            if path.startswith("webhook/") or path in ("chat.postMessage", "views.open")]
    assert len(seen) >= 6
    for text in seen:
        assert "<!channel>" not in text and "<!here>" not in text and "<!everyone>" not in text
    assert any("&lt;!everyone&gt;" in text for text in seen)
    assert any("&lt;!here&gt; &amp; &lt;@U1&gt;" in text for text in seen)
