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
from slack_sdk import WebClient

from tautan.bot import blocks as b
from tautan.bot.app import Deps, Who
from tautan.core import services
from tautan.core.errors import InvalidInput, NotAllowed
from tautan.core.i18n import Translator

log = logging.getLogger(__name__)

CALLBACK_ID = "profile_modal"
VALUE = "value"
FIELDS = ("listed", "peppol_id", "invoice_email", "portal_url", "contact", "instructions_en", "instructions_id")


def join_message(deps: Deps, who: Who, unit: str | None = None) -> dict[str, Any]:
    """The join page, the request address, and where the QR code comes from."""
    t = who.t
    target = services.join_link(deps.uow(), who.company_id, unit=unit)
    base = deps.public_base_url.rstrip("/")
    url = f"{base}/join/{target.customer_slug}" + (f"/{target.unit_slug}" if target.unit_slug else "")
    address = f"request+{target.request_slug}@{deps.mail_domain}"
    lines = [t("Suppliers can ask {customer} to connect on this page: {url}", customer=b.escape(target.display_name),
               url=f"<{url}>"),
             t("Or by writing to {address}.", address=b.escape(address)),
             t("For a QR code to print, run: {command}", command=f"`tautan link {b.escape(target.name)}`")]
    return b.message(b.escape(url), [b.section(line) for line in lines])


def profile_view(t: Translator, profile: services.ProfileView) -> dict[str, Any]:
    def text(block_id: str, label: str, initial: str | None, *, multiline: bool = False, hint: str | None = None,
             max_length: int = 320) -> dict[str, Any]:
        element = b.text_input(VALUE, multiline=multiline, max_length=max_length)
        if initial:
            element["initial_value"] = initial
        return b.input_block(block_id, label, element, optional=True, hint=hint)

    listed = b.option(t("List us in the supplier directory"), "listed")
    checkbox = b.checkboxes(VALUE, [listed], initial=[listed] if profile.listed else ())
    instructions = profile.texts.get("instructions", {})
    blocks = [
        b.input_block("listed", t("Directory"), checkbox, optional=True),
        text("peppol_id", t("PEPPOL participant id"), profile.peppol_id,
             hint=t("scheme:value, for example 0195:SGUEN201912345A")),
        text("invoice_email", t("Address for invoices"), profile.invoice_email),
        text("portal_url", t("Supplier portal (https://…)"), profile.portal_url),
        text("contact", t("Contact for suppliers (email)"), profile.contact),
        text("instructions_en", t("Instructions in English"), instructions.get("en"), multiline=True,
             max_length=services.MAX_MESSAGE_LENGTH),
        text("instructions_id", t("Instructions in Indonesian"), instructions.get("id"), multiline=True,
             max_length=services.MAX_MESSAGE_LENGTH),
    ]
    return b.modal(CALLBACK_ID, t("Supplier onboarding"), blocks, submit=t("Save"), close=t("Cancel"))


def open_profile(deps: Deps, who: Who, client: WebClient, *, trigger_id: str) -> None:
    who.require_admin()
    profile = services.customer_profile(deps.uow(), who.company_id)
    client.views_open(trigger_id=trigger_id, view=profile_view(who.t, profile))


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

    @app.view(CALLBACK_ID)
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


def identity_blocks(t: Translator, identity: services.IdentityView) -> list[dict[str, Any]]:
    """A supplier's identity for /connect show and App Home: legal name, tax id, PEPPOL id,
    verified domain, and a warning when another company holds the same ids."""
    parts = []
    if identity.legal_name:
        parts.append(t("Legal name: {name}", name=b.escape(identity.legal_name)))
    if identity.tax_id:
        parts.append(t("Tax id: {id} ({country})", id=b.escape(identity.tax_id), country=identity.country or "?"))
    if identity.peppol_id:
        parts.append(t("PEPPOL: {id}", id=b.escape(identity.peppol_id)))
    parts.append(t("Verified domain: {domain}", domain=b.escape(identity.verified_domain))
                 if identity.verified_domain else t("No verified domain"))
    blocks = [b.context(" · ".join(parts))]
    if identity.duplicate_of:
        blocks.append(b.context(t(":warning: Possible duplicate: its tax or PEPPOL id is also held by {company}.",
                                  company=f"*{b.escape(identity.duplicate_of)}*")))
    return blocks
