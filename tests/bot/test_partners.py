"""The connection list grouped by supplier, the type-ahead over the company's suppliers (in the
invite form and in ``/connect show``), and paging on the App Home, through signed requests to the
running app; what the user sees is read from the fake Slack Web API, which validates every Block
Kit payload it receives. Answers Slack reads from the HTTP response itself (a type-ahead's
options, a form's ``response_action``) are validated here with the same models."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import Option

from tautan.core import services
from tautan.core.model import Connection, Invitation, Role
from tests.bot.test_commands import (
    ADMIN,
    MEMBER,
    action_values,
    actions_payload,
    ask,
    bind,
    button,
    connected,
    form,
    invite,
    menu,
    press,
    rows,
    submit,
    supplier_request,
    text_of,
    two_workspaces,
)
from tests.support.slack import block_kit_errors, iter_blocks_text


def partner_rows(post: dict[str, Any]) -> list[dict[str, Any]]:
    return [block for block in post["blocks"] if block.get("block_id", "").startswith("partner:")]


def row_of(post: dict[str, Any], supplier_id: int) -> dict[str, Any]:
    (row,) = [block for block in partner_rows(post) if block["block_id"] == f"partner:{supplier_id}"]
    return row


def menu_values(row: dict[str, Any]) -> list[str]:
    accessory = row["accessory"]
    assert accessory["type"] == "overflow"
    return [o["value"] for o in accessory["options"]]


def suggest(slack, typed: str, *, user: str = ADMIN, team: str = "T1") -> Any:  # noqa: ANN001, ANN401
    """What Slack gets back when someone types in the suppliers' type-ahead (a block_suggestion)."""
    payload = {"type": "block_suggestion", "team": {"id": team, "domain": "example"},
               "user": {"id": user, "username": "someone", "team_id": team}, "api_app_id": "A1", "token": "legacy",
               "container": {"type": "view", "view_id": "V1"}, "action_id": "supplier_choice", "block_id": "supplier",
               "value": typed, "view": {"id": "V1", "type": "modal", "callback_id": "invite", "blocks": [],
                                        "private_metadata": "", "state": {"values": {}}, "hash": "1.a"}}
    response = slack.interact(payload)
    assert response.status_code == 200
    return response.json()


def offered(slack, typed: str, **kwargs: Any) -> list[tuple[str, str]]:  # noqa: ANN001
    """The type-ahead's options as (value, text), each checked as Slack would."""
    answer = suggest(slack, typed, **kwargs)
    for option in answer["options"]:
        Option(**option).validate_json()  # a text of at most 75 characters, a value of at most 150
    assert len(answer["options"]) <= 100
    return [(o["value"], o["text"]["text"]) for o in answer["options"]]


def picked(supplier_id: int | str) -> dict[str, Any]:
    return {"supplier": {"supplier_choice": {"type": "external_select", "selected_option": {
        "value": str(supplier_id), "text": {"type": "plain_text", "text": "x"}}}}}


def submit_show(slack, values: dict[str, Any], *, user: str = ADMIN) -> Any:  # noqa: ANN001, ANN401
    payload = {"type": "view_submission", "team": {"id": "T1", "domain": "example"},
               "user": {"id": user, "username": "someone", "team_id": "T1"}, "api_app_id": "A1",
               "token": "legacy", "trigger_id": "111.222.valid",
               "view": {"id": "V1", "team_id": "T1", "type": "modal", "callback_id": "show_supplier", "blocks": [],
                        "private_metadata": "", "state": {"values": values}, "hash": "1.a"}, "response_urls": []}
    response = slack.interact(payload)
    assert response.status_code == 200
    return response.json()


# --- /connect list: one row per supplier ---------------------------------------------------------

def test_a_supplier_with_three_types_is_one_row_with_each_types_status(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    maju = invite(slack, workspace.company_id, "ana@pt-maju.co.id", types=("catalog", "order", "invoice"),
                  supplier_name="PT Maju")
    listing = ask(slack, "list")
    (row,) = partner_rows(listing)
    assert row["block_id"] == f"partner:{maju.supplier_id}"
    lines = row["text"]["text"].split("\n")
    assert lines[0] == "*PT Maju*"
    assert lines[1] == "catalog: invited · order: invited · invoice: invited"
    assert lines[2].startswith("Last change <!date^")
    assert "Page 1 of 1 · 1 supplier in all." in text_of(listing)
    # One invitation for the three types: sent again or cancelled once, and History.
    assert menu_values(row) == [f"resend:{maju.id}", f"cancel:{maju.id}", f"partner:{maju.supplier_id}"]

    services.accept(slack.container.uow(), invitation_id=maju.id, actor="email:ana@pt-maju.co.id", via="email")
    (row,) = partner_rows(ask(slack, "list"))
    assert row["text"]["text"].split("\n")[1] == "catalog: connected · order: connected · invoice: connected"
    codes = {c.type_id: c.id for c in rows(slack, Connection)}
    assert menu_values(row) == [*(f"disconnect:{codes[t]}" for t in sorted(codes)), f"partner:{maju.supplier_id}"]
    assert [o["text"]["text"] for o in row["accessory"]["options"]] == [
        "Disconnect catalog", "Disconnect order", "Disconnect invoice", "History"]


def test_history_alone_is_a_button_and_opens_every_connection_of_the_supplier(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    (asked, _) = supplier_request(slack, workspace.company_id, "CV Baru", ("order", "invoice"))
    listing = ask(slack, "list")
    row = row_of(listing, asked.supplier_id)
    assert row["text"]["text"].split("\n")[1] == "order: requested · invoice: requested"
    assert row["accessory"] == {"type": "button", "text": {"type": "plain_text", "text": "History", "emoji": True},
                                "action_id": "partner_history", "value": str(asked.supplier_id)}

    before = len(slack.fake.called("views.open"))
    assert slack.interact(actions_payload(button("partner_history", str(asked.supplier_id)))).status_code == 200
    view = slack.fake.wait_for("views.open", before + 1)[before]["view"]
    assert view["title"]["text"] == "History"
    shown = text_of(view)
    assert "*CV Baru*" in shown and "History:" in shown and "asked to connect" in shown
    connection_ids = sorted(block["block_id"] for block in view["blocks"]
                            if block.get("block_id", "").startswith("connection:"))
    assert connection_ids == sorted(f"connection:{c.id}" for c in rows(slack, Connection))
    # Each connection of a request has nothing but its history to offer: a button too.
    accessories = [block["accessory"] for block in view["blocks"] if block.get("block_id", "").startswith("connection:")]
    assert [a["action_id"] for a in accessories] == ["connection_history", "connection_history"]
    assert slack.interact(actions_payload(button("connection_history", str(asked.id)), view={"type": "modal"})
                          ).status_code == 200
    pushed = slack.fake.wait_for("views.push")[0]["view"]
    assert "order: requested" in text_of(pushed) and "invoice" not in text_of(pushed).split("History:")[0]
    before = len(slack.fake.called("views.open"))

    # The overflow's History opens the same.
    maju = invite(slack, workspace.company_id, "ana@pt-maju.co.id", supplier_name="PT Maju")
    assert slack.interact(actions_payload(menu(f"partner:{maju.supplier_id}"))).status_code == 200
    view = slack.fake.wait_for("views.open", before + 1)[before]["view"]
    assert "*PT Maju*" in text_of(view) and "CV Baru" not in text_of(view)


def test_a_menu_never_has_more_than_five_options(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    services.create_company(slack.container.uow(), name="Gudang Jakarta", parent=workspace.company_id,
                            actor="cli:test", via="cli")
    both = connected(slack, workspace.company_id, "ana@pt-maju.co.id", types=("catalog", "order", "invoice"),
                     supplier_name="PT Maju")
    pending = invite(slack, workspace.company_id, "ana@pt-maju.co.id", types=("order", "invoice"),
                     unit="Gudang Jakarta")
    assert pending.supplier_id == both.supplier_id
    listing = ask(slack, "list")
    row = row_of(listing, both.supplier_id)
    text = row["text"]["text"]
    assert "_Example Workspace_: catalog: connected · order: connected · invoice: connected" in text
    assert "_Example Workspace / Gudang Jakarta_: order: invited · invoice: invited" in text
    values = menu_values(row)
    assert len(values) == 5 and values[-1] == f"partner:{both.supplier_id}"  # the rest is in History
    assert all(len(o["text"]["text"]) <= 75 for o in row["accessory"]["options"])
    assert "Disconnect catalog (Example Workspace)" in [o["text"]["text"] for o in row["accessory"]["options"]]


def test_filters_keep_the_matching_types_and_paging_goes_by_supplier(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    maju = connected(slack, workspace.company_id, "ana@pt-maju.co.id", supplier_name="PT Maju")
    invite(slack, workspace.company_id, "ana@pt-maju.co.id", types=("order",))
    for i in range(11):
        invite(slack, workspace.company_id, f"sales{i:02d}@pemasok{i:02d}.co.id", types=("catalog", "order", "invoice"),
               supplier_name=f"PT Pemasok {i:02d}")

    (row,) = partner_rows(ask(slack, "list connected"))
    assert row["text"]["text"].split("\n")[1] == "invoice: connected"
    assert [line for line in row_of(ask(slack, "list maju"), maju.supplier_id)["text"]["text"].split("\n")][1] == (
        "order: invited · invoice: connected")
    only_orders = ask(slack, "list order")
    assert all(block["text"]["text"].split("\n")[1] == "order: invited" for block in partner_rows(only_orders))
    assert "12 suppliers in all." in text_of(only_orders)

    first = ask(slack, "list invited")
    assert len(partner_rows(first)) == 10 and len(first["blocks"]) <= 50
    assert "Page 1 of 2 · 12 suppliers in all." in text_of(first)
    next_value = dict(action_values(first))["page_next"]
    second = press(slack, button("page_next", next_value))
    assert "Page 2 of 2 · 12 suppliers in all." in text_of(second)
    assert len(partner_rows(second)) == 2
    assert {b["block_id"] for b in partner_rows(first)}.isdisjoint({b["block_id"] for b in partner_rows(second)})
    assert "Filtered by invited." in text_of(second)

    # A page past the end (answered meanwhile, or a forged value) shows the last one.
    past = press(slack, button("page_next", json.dumps({"p": 99, "s": ["invited"]})))
    assert "Page 2 of 2 · 12 suppliers in all." in text_of(past) and len(partner_rows(past)) == 2
    assert [a for a, _ in action_values(past) if a.startswith("page_")] == ["page_prev"]
    broken = press(slack, button("page_next", "{not json"))
    assert "Page 1 of 2 · 12 suppliers in all." in text_of(broken) and "Filtered by" not in text_of(broken)


def test_another_companys_suppliers_are_not_listed_nor_shown(make_slack) -> None:  # noqa: ANN001
    slack, one = two_workspaces(make_slack)
    maju = invite(slack, one.company_id, "ana@pt-maju.co.id", supplier_name="PT Maju")
    bind(slack, "T2", "U7")
    assert "No connections match." in text_of(ask(slack, "list", user="U7", team="T2"))
    refused = press(slack, button("partner_history", str(maju.supplier_id)), user="U7", team="T2")
    assert refused["text"] == f"There is no supplier with id {maju.supplier_id}."
    refused = press(slack, menu(f"partner:{maju.supplier_id}"), user="U7", team="T2")
    assert refused["text"] == f"There is no supplier with id {maju.supplier_id}."
    (link,) = maju.connections
    refused = press(slack, button("connection_history", str(link.id)), user="U7", team="T2")
    assert refused["text"] == f"There is no connection with id {link.id}."


# --- the type-ahead over the company's suppliers -----------------------------------------------------

def test_the_type_ahead_offers_this_companys_suppliers_by_name_or_address(make_slack) -> None:  # noqa: ANN001
    slack, one = two_workspaces(make_slack)
    two = bind(slack, "T2", "U7")
    maju = invite(slack, one.company_id, "ana@pt-maju.co.id", supplier_name="PT Maju Jaya")
    lambat = invite(slack, one.company_id, "budi@cv-lambat.co.id", supplier_name="CV Lambat")
    (asked,) = supplier_request(slack, one.company_id, "PT Minta")
    secret = invite(slack, two.company_id, "rahasia@maju-rahasia.co.id", supplier_name="PT Maju Rahasia")
    invite(slack, two.company_id, "lain@cv-lambat.co.id")  # whoever that supplier is, the address is T2's

    assert offered(slack, "maju") == [(str(maju.supplier_id), "PT Maju Jaya · ana@pt-maju.co.id")]
    assert offered(slack, "MAJU") == offered(slack, "maju")
    assert offered(slack, "cv-lambat") == [(str(lambat.supplier_id), "CV Lambat · budi@cv-lambat.co.id")]
    assert offered(slack, "pemasok") == [(str(asked.supplier_id), "PT Minta · sales@pemasok.co.id")]
    assert offered(slack, "rahasia") == [] and offered(slack, "lain@") == []
    everything = offered(slack, "")
    assert [text for _, text in everything] == ["CV Lambat · budi@cv-lambat.co.id", "PT Maju Jaya · ana@pt-maju.co.id",
                                                "PT Minta · sales@pemasok.co.id"]
    for _, text in everything:
        assert "rahasia" not in text.lower() and "lain@" not in text
    # The other workspace sees its own, and never the first one's addresses.
    theirs = offered(slack, "", user="U7", team="T2")
    assert (str(secret.supplier_id), "PT Maju Rahasia · rahasia@maju-rahasia.co.id") in theirs
    assert not any("ana@" in text or "budi@" in text or "Minta" in text for _, text in theirs)


def test_the_type_ahead_is_for_admins_and_answers_at_most_a_hundred(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    rows_in = [services.InviteRow(email=f"sales@pemasok{i:03d}.co.id", types="invoice",
                                  supplier_name=f"PT Pemasok {i:03d}") for i in range(105)]
    services.invite_many(slack.container.uow(), customer=workspace.company_id, rows=rows_in, actor="cli:test",
                         via="cli")
    found = offered(slack, "pemasok")
    assert len(found) == 100 and found[0][1] == "PT Pemasok 000 · sales@pemasok000.co.id"

    before = len(slack.fake.called("chat.postMessage"))
    assert suggest(slack, "pemasok", user=MEMBER) == {"options": []}
    assert len(slack.fake.called("chat.postMessage")) == before, "no message for each key pressed"


def test_the_invite_form_invites_a_supplier_picked_in_the_type_ahead(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    assert slack.command("").status_code == 200
    first = slack.fake.wait_for("views.open")[0]["view"]
    assert "supplier" not in [block["block_id"] for block in first["blocks"]], "no suppliers yet: nothing to pick"

    maju = connected(slack, workspace.company_id, "ana@pt-maju.co.id", supplier_name="PT Maju")
    assert slack.command("").status_code == 200
    view = slack.fake.wait_for("views.open", 2)[1]["view"]
    by_id = {block["block_id"]: block for block in view["blocks"]}
    assert list(by_id)[:2] == ["emails", "supplier"]
    assert by_id["emails"]["optional"] is True and by_id["supplier"]["optional"] is True
    assert by_id["supplier"]["element"]["type"] == "external_select"
    assert by_id["supplier"]["element"]["action_id"] == "supplier_choice"

    values = {**form("", types=("order",)), **picked(maju.supplier_id)}
    response = submit(slack, values)
    assert response.status_code == 200 and response.text == ""
    summary = slack.fake.wait_for("chat.postMessage")[0]
    assert "ana@pt-maju.co.id: invited for order" in text_of(summary)
    invited = [i for i in rows(slack, Invitation) if i.email == "ana@pt-maju.co.id"]
    assert len(invited) == 2 and {i.supplier_id for i in invited} == {maju.supplier_id}

    # Typed addresses go out too.
    submit(slack, {**form("budi@cv-lambat.co.id", types=("catalog",)), **picked(maju.supplier_id)})
    summary = text_of(slack.fake.wait_for("chat.postMessage", 2)[1])
    assert "budi@cv-lambat.co.id: invited for catalog" in summary
    assert "ana@pt-maju.co.id: catalog added to the open invitation" in summary


def test_the_invite_form_refuses_a_supplier_that_is_not_the_companys(make_slack) -> None:  # noqa: ANN001
    slack, one = two_workspaces(make_slack)
    invite(slack, one.company_id, "ana@pt-maju.co.id", supplier_name="PT Maju")
    two = bind(slack, "T2", "U7")
    secret = invite(slack, two.company_id, "rahasia@pt-rahasia.co.id", supplier_name="PT Rahasia")
    before = len(rows(slack, Invitation))

    not_ours = {"response_action": "errors", "errors": {"supplier": "Choose one of the suppliers in the list."}}
    for forged in (secret.supplier_id, 10**12):
        assert submit(slack, {**form("", types=("order",)), **picked(forged)}).json() == not_ours
    nobody = services.create_company(slack.container.uow(), name="CV Senyap", roles=[Role.SUPPLIER],
                                     actor="cli:test", via="cli")
    assert submit(slack, {**form(""), **picked(nobody.id)}).json() == not_ours
    assert submit(slack, {**form(""), **picked("abc")}).json() == not_ours
    assert submit(slack, {**form("")}).json()["errors"] == {"emails": "Enter at least one email address."}
    assert len(rows(slack, Invitation)) == before

    # One of ours that never gave an address (it was added by an operator): say so.
    services.request(slack.container.uow(), supplier=nobody.id, customer=one.company_id, types=["order"],
                     actor="cli:operator", via="cli")
    assert submit(slack, {**form(""), **picked(nobody.id)}).json()["errors"] == {
        "supplier": "There is no address for this supplier yet: type one above."}


def test_connect_show_alone_lets_an_admin_pick_a_supplier(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    maju = invite(slack, workspace.company_id, "ana@pt-maju.co.id", types=("order", "invoice"),
                  supplier_name="PT Maju")
    assert slack.command("show").status_code == 200
    view = slack.fake.wait_for("views.open")[0]["view"]
    assert view["callback_id"] == "show_supplier"
    (block,) = view["blocks"]
    assert block["element"]["type"] == "external_select" and block["element"]["action_id"] == "supplier_choice"

    answer = submit_show(slack, picked(maju.supplier_id))
    assert answer["response_action"] == "update"
    assert block_kit_errors("views.update", {"view": answer["view"]}) == []
    shown = "\n".join(iter_blocks_text(answer["view"]["blocks"]))
    assert "*PT Maju*" in shown and "History:" in shown and "order: invited" in shown

    assert submit_show(slack, picked(999_999)) == {"response_action": "errors",
                                                   "errors": {"supplier": "Choose one of the suppliers in the list."}}
    assert submit_show(slack, {}) == {"response_action": "errors",
                                      "errors": {"supplier": "Choose one of the suppliers in the list."}}
    refused = submit_show(slack, picked(maju.supplier_id), user=MEMBER)
    assert refused["response_action"] == "errors" and refused["errors"]["supplier"].startswith("Only admins")


def test_the_type_ahead_and_the_picker_speak_indonesian(slack) -> None:  # noqa: ANN001
    workspace = bind(slack)
    slack.fake.users["U5"] = {"locale": "id-ID", "is_admin": True}
    invite(slack, workspace.company_id, "ana@pt-maju.co.id", supplier_name="PT Maju")
    assert slack.command("show", user="U5").status_code == 200
    view = slack.fake.wait_for("views.open")[0]["view"]
    assert view["title"]["text"] == "Tampilkan pemasok"
    assert view["blocks"][0]["element"]["placeholder"]["text"] == "Ketik sebagian nama atau alamatnya"
    listing = ask(slack, "list", user="U5")
    assert "Halaman 1 dari 1 · total pemasok: 1." in text_of(listing)
    assert "faktur: diundang" in text_of(listing)
