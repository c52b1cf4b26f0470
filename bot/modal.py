"""Slack surface: the invite form (``/connect`` alone, or ``/connect invite``).

The form asks for up to 100 supplier addresses, one a line, the supplier's name, the document
types, the language, the unit and a message. A submission is checked before it is acknowledged, so
mistakes show up in the form itself, next to the field (``response_action: errors``). A valid one
closes the form at once; the invitations are then sent one by one and the admin gets a summary as
a direct message.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from tautan.bot import blocks as b
from tautan.bot.app import Deps, Who
from tautan.core import services
from tautan.core.errors import InvalidInput, NotAllowed, TautanError
from tautan.core.i18n import N_, SUPPORTED_LOCALES, Translator
from tautan.core.model import DOCUMENT_TYPES, Company
from tautan.core.views import InvitationView

log = logging.getLogger(__name__)

CALLBACK_ID = "invite"
MAX_EMAILS = 100
DEFAULT_TYPES = ("invoice",)
LANGUAGE_NAMES = {"en": N_("English"), "id": N_("Indonesian")}

# block_id -> action_id of the form's inputs
EMAILS, NAME, TYPES, LANG, UNIT, MESSAGE = "emails", "supplier_name", "types", "lang", "unit", "message"
VALUE = "value"


@dataclass(frozen=True)
class Unit:
    id: int
    name: str


def units(deps: Deps, company_id: int) -> list[Unit]:
    """The units of a customer company, by name (read-only)."""
    with deps.uow() as uow:
        rows = uow.session.execute(select(Company.id, Company.name).where(Company.parent_id == company_id)
                                   .order_by(Company.name_key)).all()
    return [Unit(id=row.id, name=row.name) for row in rows]


def language_name(t: Translator, locale: str) -> str:
    return t(LANGUAGE_NAMES[locale]) if locale in LANGUAGE_NAMES else locale


# --- the form ---------------------------------------------------------------------------------

def invite_view(t: Translator, *, lang: str, unit_choices: Sequence[Unit]) -> dict[str, Any]:
    """The invite modal; ``lang`` is the preselected language (the admin's own), kept in the
    private metadata to tell, on submit, whether the admin changed it."""
    type_options = [b.option(b.type_label(t, code), code) for code in DOCUMENT_TYPES]
    lang_options = {code: b.option(language_name(t, code), code) for code in SUPPORTED_LOCALES}
    form = [
        b.input_block(EMAILS, t("Supplier email addresses"),
                      b.text_input(VALUE, multiline=True, placeholder="ana@pt-maju.co.id"),
                      hint=t("One address a line, at most {max}.", max=MAX_EMAILS)),
        b.input_block(NAME, t("Supplier company name"), b.text_input(VALUE, max_length=services.MAX_NAME_LENGTH),
                      optional=True, hint=t("Leave empty to use the name the supplier already has with us.")),
        b.input_block(TYPES, t("Document types"),
                      b.checkboxes(VALUE, type_options, initial=[o for o in type_options if o["value"] in DEFAULT_TYPES])),
        b.input_block(LANG, t("Language of the invitation"),
                      b.static_select(VALUE, list(lang_options.values()), initial=lang_options.get(lang)),
                      hint=t("Left as it is, each invitation is written in the language that suits its address: "
                             "Indonesian for .id domains, English otherwise.")),
    ]
    if unit_choices:
        form.append(b.input_block(UNIT, t("Unit"), b.static_select(
            VALUE, [b.option(u.name, str(u.id)) for u in unit_choices], placeholder=t("The whole company")),
            optional=True))
    form.append(b.input_block(MESSAGE, t("Personal message"),
                              b.text_input(VALUE, multiline=True, max_length=services.MAX_MESSAGE_LENGTH),
                              optional=True))
    metadata = json.dumps({"lang": lang}, separators=(",", ":"))
    return b.modal(CALLBACK_ID, t("Invite suppliers"), form, submit=t("Send"), close=t("Cancel"),
                   private_metadata=metadata)


def open_invite_modal(deps: Deps, who: Who, client: WebClient, *, trigger_id: str) -> None:
    """Open the invite form for an admin (from ``/connect`` or the App Home button)."""
    who.require_admin()
    view = invite_view(who.t, lang=who.locale, unit_choices=units(deps, who.company_id))
    client.views_open(trigger_id=trigger_id, view=view)


@dataclass(frozen=True)
class Form:
    emails: tuple[str, ...]
    supplier_name: str | None
    types: tuple[str, ...]
    lang: str | None  # None: each invitation in the language that suits its address
    unit: str | None
    message: str | None


def _value(values: dict[str, Any], block_id: str) -> Any:
    return (values.get(block_id) or {}).get(VALUE) or {}


def read_form(t: Translator, values: dict[str, Any], *, default_lang: str | None,
              unit_choices: Sequence[Unit]) -> tuple[Form | None, dict[str, str]]:
    """The form's values, or the errors to show next to the fields (block_id → text)."""
    errors: dict[str, str] = {}
    emails, error = parse_emails(t, _value(values, EMAILS).get("value") or "")
    if error:
        errors[EMAILS] = error

    name = " ".join((_value(values, NAME).get("value") or "").split()) or None
    if name and len(name) > services.MAX_NAME_LENGTH:
        errors[NAME] = t("A company name must be 1 to {max} characters.", max=services.MAX_NAME_LENGTH)

    chosen = [o.get("value") for o in _value(values, TYPES).get("selected_options") or []]
    types = tuple(code for code in DOCUMENT_TYPES if code in chosen)
    if not types:
        errors[TYPES] = t("Choose at least one document type.")

    lang = (_value(values, LANG).get("selected_option") or {}).get("value")
    if lang not in SUPPORTED_LOCALES or lang == default_lang:
        lang = None

    unit = None
    unit_id = (_value(values, UNIT).get("selected_option") or {}).get("value")
    if unit_id:
        unit = next((u.name for u in unit_choices if str(u.id) == unit_id), None)
        if unit is None:
            errors[UNIT] = t("Choose one of the units in the list.")

    message = (_value(values, MESSAGE).get("value") or "").strip() or None
    if message and len(message) > services.MAX_MESSAGE_LENGTH:
        errors[MESSAGE] = t("The message is too long: at most {max} characters.", max=services.MAX_MESSAGE_LENGTH)

    if errors:
        return None, errors
    return Form(emails=emails, supplier_name=name, types=types, lang=lang, unit=unit, message=message), {}


_MAILTO = re.compile(r"<mailto:([^|>]+)(?:\|[^>]*)?>")


def unwrap_mailto(text: str) -> str:
    """Slack may turn a typed address into ``<mailto:ana@x.id|ana@x.id>``: keep the address."""
    return _MAILTO.sub(r"\1", text)


def parse_emails(t: Translator, text: str) -> tuple[tuple[str, ...], str | None]:
    """Addresses, one a line (commas and spaces between addresses are tolerated), without
    repeats; or a message saying what is wrong and on which line."""
    found: list[str] = []
    for number, line in enumerate(unwrap_mailto(text).splitlines(), start=1):
        for piece in re.split(r"[,;\s]+", line.strip()):
            if not piece:
                continue
            try:
                address = services.normalize_email(piece)
            except InvalidInput:
                return (), t("Line {line}: {email} is not a valid email address.", line=number, email=piece[:320])
            if address not in found:
                found.append(address)
    if not found:
        return (), t("Enter at least one email address.")
    if len(found) > MAX_EMAILS:
        return (), t("At most {max} addresses at a time; this list has {count}.", max=MAX_EMAILS,
                     count=len(found))
    return tuple(found), None


# --- sending and the summary ------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    email: str
    invitation: InvitationView | None = None
    error: str | None = None


def invite_all(deps: Deps, who: Who, emails: Sequence[str], *, types: Sequence[str], lang: str | None = None,
               unit: str | None = None, message: str | None = None,
               supplier_name: str | None = None) -> list[Outcome]:
    """Invite each address in its own unit of work: one address that fails does not stop the others."""
    outcomes = []
    for email in emails:
        try:
            view = services.invite(deps.uow(), customer=who.company_id, unit=unit, email=email, types=list(types),
                                   lang=lang, message=message, supplier_name=supplier_name, actor=who.actor,
                                   via="slack")
        except TautanError as error:
            outcomes.append(Outcome(email=email, error=who.t.error(error)))
        else:
            outcomes.append(Outcome(email=email, invitation=view))
    return outcomes


MAX_SUMMARY_LINES = 40  # a message stays well under Slack's ~13k characters of blocks


def summary_message(t: Translator, outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """What happened to each address: the counts, then the addresses that need a look (not invited,
    already invited), then the ones invited."""
    invited = [o for o in outcomes if o.invitation is not None and o.invitation.created]
    live = [o for o in outcomes if o.invitation is not None and not o.invitation.created]
    failed = [o for o in outcomes if o.invitation is None]
    counts = t("Invited: {invited} · already invited: {live} · not invited: {failed}.",
               invited=t.number(len(invited)), live=t.number(len(live)), failed=t.number(len(failed)))
    lines = []
    for outcome in [*failed, *live, *invited]:
        view = outcome.invitation
        if view is None:
            line = t("{email}: not invited. {reason}", email=outcome.email, reason=outcome.error or "")
        elif view.created:
            line = t("{email}: invited for {types} (invitation {id}).", email=outcome.email,
                     types=b.types_label(t, view.types), id=view.id)
        elif view.added_types:
            line = t("{email}: {types} added to the open invitation (invitation {id}).", email=outcome.email,
                     types=b.types_label(t, view.added_types), id=view.id)
        else:
            line = t("{email}: already has an open invitation (invitation {id}); nothing new was sent.",
                     email=outcome.email, id=view.id)
        lines.append("• " + b.escape(line))
    if len(lines) > MAX_SUMMARY_LINES:
        more = len(lines) - MAX_SUMMARY_LINES + 1
        lines = [*lines[:MAX_SUMMARY_LINES - 1], b.escape(t("… and {count} more.", count=t.number(more)))]
    title = t("Your invitations")
    blocks = [b.header(title), b.section(b.escape(counts)), *b.sections(lines)]
    return b.message(f"{b.escape(title)}: {b.escape(counts)}", blocks)


# --- listeners --------------------------------------------------------------------------------

def register(app: App, deps: Deps) -> None:
    """The invite form's submission; opening it is ``/connect`` (bot/commands.py)."""

    @app.view(CALLBACK_ID)
    def submitted(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        who: Who = context["who"]
        try:
            who.require_admin()
        except NotAllowed as refusal:
            ack(response_action="errors", errors={EMAILS: who.t.error(refusal)})
            return
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            metadata = {}
        default_lang = metadata.get("lang") if isinstance(metadata, dict) else None
        form, errors = read_form(who.t, view.get("state", {}).get("values", {}), default_lang=default_lang,
                                 unit_choices=units(deps, who.company_id))
        if form is None:
            ack(response_action="errors", errors=errors)
            return
        ack()
        # After the ack nothing is raised back to Bolt (see bot.commands.answering_errors); a form has
        # no response_url, so what went wrong is logged.
        try:
            outcomes = invite_all(deps, who, form.emails, types=form.types, lang=form.lang, unit=form.unit,
                                  message=form.message, supplier_name=form.supplier_name)
            # A direct message: the bot can always write to the admin, whatever channel the form came from.
            client.chat_postMessage(channel=who.user_id, **summary_message(who.t, outcomes))
        except SlackApiError as error:
            log.warning("slack: could not send the invitation summary: %s", error.response.get("error"))
        except Exception:
            log.exception("slack: the invite form failed after it was accepted")
