"""Slack surface: the customer's sign-up profile and join link.

``/connect profile`` opens a form (admins only) for what suppliers are told once connected — the
PEPPOL id, the invoice address, a portal, whom to contact, instructions in both languages — and
whether the company is listed in the supplier directory. ``/connect link`` answers with the join
page's address and the request address to hand out. Both are wired into ``/connect`` by
bot/commands.py; the form's submission is registered here.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext

from tautan.bot import messages as m
from tautan.bot.context import Deps, Who
from tautan.core import services
from tautan.core.errors import InvalidInput, NotAllowed

log = logging.getLogger(__name__)

VALUE = "value"
FIELDS = ("listed", "peppol_id", "invoice_email", "portal_url", "contact", "instructions_en", "instructions_id")








def read_values(values: dict[str, Any]) -> dict[str, Any]:
    def value(block_id: str) -> Any:
        return (values.get(block_id) or {}).get(VALUE) or {}

    form: dict[str, Any] = {k: (value(k).get("value") or "") for k in FIELDS if k != "listed"}
    form["listed"] = any(o.get("value") == "listed" for o in value("listed").get("selected_options") or [])
    return form


def save(deps: Deps, who: Who, form: dict[str, Any]) -> dict[str, str]:
    """Save the form; the errors to show next to the fields (block id → text), if any."""
    common: dict[str, Any] = {"customer": who.company_id, "actor": who.actor, "via": "slack"}
    try:
        services.set_customer_profile(deps.uow(), **common, listed=form["listed"], peppol_id=form["peppol_id"],
                                      invoice_email=form["invoice_email"], portal_url=form["portal_url"],
                                      contact=form["contact"], lang="en", instructions=form["instructions_en"])
        services.set_customer_profile(deps.uow(), **common, lang="id", instructions=form["instructions_id"])
    except InvalidInput as error:
        field = {"PEPPOL": "peppol_id", "https": "portal_url"}
        text = who.t.error(error)
        block = next((f for key, f in field.items() if key in error.message_id), None)
        if block is None:
            value = str(error.params.get("email", ""))
            block = "contact" if value and value == form["contact"].strip() else "invoice_email"
        return {block: text}
    return {}


def register(app: App, deps: Deps) -> None:
    """The profile form's submission; opening it is ``/connect profile`` (bot/commands.py)."""

    @app.view(m.PROFILE_CALLBACK_ID)
    def submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        who: Who = context["who"]
        try:
            who.require_admin()
        except NotAllowed as refusal:
            ack(response_action="errors", errors={"peppol_id": who.t.error(refusal)})
            return
        errors = save(deps, who, read_values(view.get("state", {}).get("values", {})))
        if errors:
            ack(response_action="errors", errors=errors)
        else:
            ack()


