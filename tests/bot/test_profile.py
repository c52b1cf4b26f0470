"""/connect link, /connect profile (the form and its submission) and the supplier's identity in
/connect show, through signed requests to the running app and the fake Web API."""

from __future__ import annotations

from typing import Any

from tautan.core import services
from tautan.core.model import Role
from tautan.slack_store import SlackStore
from tests.support.slack import iter_blocks_text

ADMIN = "U1"


def text_of(post: dict[str, Any]) -> str:
    return "\n".join([post.get("text") or "", *iter_blocks_text(post.get("blocks") or [])])


def shown_in_modal(slack, text: str, *, user: str = ADMIN) -> str:  # noqa: ANN001
    """/connect show opens a modal: the text of the view it opened."""
    before = len(slack.fake.called("views.open"))
    assert slack.command(text, user=user, team="T1", channel="C1").status_code == 200
    view = slack.fake.wait_for("views.open", before + 1)[before]["view"]
    return "\n".join(iter_blocks_text(view.get("blocks") or []))


def ask(slack, text: str, *, user: str = ADMIN) -> dict[str, Any]:  # noqa: ANN001
    path = f"webhook/T1/{user}"
    before = len(slack.fake.called(path))
    assert slack.command(text, user=user, team="T1", channel="C1").status_code == 200
    return slack.fake.wait_for(path, before + 1)[before]


def bind(slack) -> int:  # noqa: ANN001
    slack.fake.users[ADMIN] = {**slack.fake.users.get(ADMIN, {}), "is_admin": True}
    ask(slack, "help")
    workspace = SlackStore(slack.container.engine).workspace("T1")
    assert workspace is not None
    return workspace.company_id


def submit(slack, values: dict[str, Any], *, user: str = ADMIN) -> Any:  # noqa: ANN001, ANN401
    payload = {"type": "view_submission", "team": {"id": "T1", "domain": "example"},
               "user": {"id": user, "username": "someone", "team_id": "T1"}, "api_app_id": "A1",
               "token": "legacy", "trigger_id": "111.222.valid",
               "view": {"id": "V1", "team_id": "T1", "type": "modal", "callback_id": "profile_modal", "blocks": [],
                        "private_metadata": "", "state": {"values": values}, "hash": "1.a"},
               "response_urls": []}
    return slack.interact(payload)


def values(**fields: str) -> dict[str, Any]:
    found = {k: {"value": {"type": "plain_text_input", "value": v}} for k, v in fields.items() if k != "listed"}
    found["listed"] = {"value": {"type": "checkboxes", "selected_options": (
        [{"value": "listed", "text": {"type": "plain_text", "text": "x"}}] if fields.get("listed") else [])}}
    return found


def test_link_gives_the_join_page_and_the_request_address(slack) -> None:  # noqa: ANN001
    company_id = bind(slack)
    slug = services.get_company(slack.container.uow(), company_id).slug
    answer = text_of(ask(slack, "link"))
    assert f"<https://tautan.example.id/join/{slug}>" in answer
    assert f"request+{slug}@connect.example.id" in answer and "tautan link" in answer
    (upload,) = slack.fake.wait_for("files.getUploadURLExternal")  # and the QR code, as an image
    (complete,) = slack.fake.wait_for("files.completeUploadExternal")
    assert upload["filename"] == f"{slug}-join.png" and complete["channel_id"] == "C1"
    (sent,) = [params for path, params, _ in slack.fake.calls if path.startswith("upload/")]
    assert sent["raw"].startswith("\ufffdPNG")  # the PNG signature (its first byte is not UTF-8)


def test_profile_opens_a_form_and_saves_it(slack) -> None:  # noqa: ANN001
    company_id = bind(slack)
    assert slack.command("profile", user=ADMIN, team="T1", channel="C1").status_code == 200
    view = slack.fake.wait_for("views.open")[0]["view"]
    assert view["callback_id"] == "profile_modal"
    assert [blk["block_id"] for blk in view["blocks"]] == [
        "listed", "peppol_id", "invoice_email", "portal_url", "contact", "instructions_en", "instructions_id"]

    bad = submit(slack, values(peppol_id="nope"))
    assert bad.status_code == 200 and bad.json()["response_action"] == "errors"
    assert "peppol_id" in bad.json()["errors"]
    assert submit(slack, values(invoice_email="not an address")).json()["errors"].keys() == {"invoice_email"}

    ok = submit(slack, values(listed="yes", peppol_id="0195:ID1", contact="ap@pelanggan.co.id",
                              instructions_en="Quote the PO.", instructions_id="Sebutkan PO."))
    assert ok.status_code == 200 and not ok.text
    profile = services.customer_profile(slack.container.uow(), company_id)
    assert profile.listed and profile.peppol_id == "0195:id1" and profile.contact == "ap@pelanggan.co.id"
    assert profile.texts["instructions"] == {"en": "Quote the PO.", "id": "Sebutkan PO."}


def test_a_member_cannot_open_or_submit_the_profile(slack) -> None:  # noqa: ANN001
    company_id = bind(slack)
    answer = text_of(ask(slack, "profile", user="U2"))
    assert "admin" in answer.lower()
    refused = submit(slack, values(listed="yes"), user="U2")
    assert refused.json()["response_action"] == "errors"
    assert not services.customer_profile(slack.container.uow(), company_id).listed


def test_show_has_the_suppliers_identity_and_a_duplicate_warning(slack) -> None:  # noqa: ANN001
    company_id = bind(slack)
    uow = slack.container.uow
    services.create_company(uow(), name="CV Kembar", roles=[Role.SUPPLIER], actor="cli:test", via="cli")
    services.set_supplier_identity(uow(), supplier="CV Kembar", tax_id="013000666091000", actor="cli:test", via="cli")
    invitation = services.invite(uow(), customer=company_id, email="ana@pt-maju.co.id", types=["invoice"],
                                 supplier_name="PT Maju", actor="slack:T1/U1", via="slack")
    services.set_supplier_identity(uow(), supplier="PT Maju", legal_name="PT Maju Tbk", tax_id="01.300.066.6-091.000",
                                   actor="email:ana@pt-maju.co.id", via="link")
    for shown in (shown_in_modal(slack, f"show {invitation.id}"), shown_in_modal(slack, "show maju")):
        assert "Legal name: PT Maju Tbk" in shown and "01.300.066.6-091.000" in shown
        assert "Possible duplicate" in shown and "*CV Kembar*" in shown
