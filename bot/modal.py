"""Slack surface: the invite form's submission (the form itself, and opening it from ``/connect``,
the App Home or a shortcut, are in ``bot.messages``).

The form asks for up to 100 supplier addresses, one a line, the supplier's name, the document
types, the language, the unit and a message. A submission is checked before it is acknowledged, so
mistakes show up in the form itself, next to the field (``response_action: errors``). A valid one
closes the form at once; the invitations are then sent one by one and the admin gets a summary as
a direct message.

Where the company has suppliers already, the form also offers one of them, picked by typing part
of its name or address (an ``external_select``): the ``options`` listener here answers it with the
company's own suppliers only, for admins only. ``/connect show`` alone opens the same type-ahead;
its submission turns the form into the supplier's connections and history.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tautan.bot import messages as m
from tautan.bot.context import Deps, Who
from tautan.bot.messages import EMAILS, LANG, MESSAGE, NAME, TYPES, UNIT, VALUE, Outcome, parse_emails, summary_message
from tautan.core import queries, services
from tautan.core.errors import NotAllowed, NotFound
from tautan.core.i18n import SUPPORTED_LOCALES, Translator
from tautan.core.model import DOCUMENT_TYPES
from tautan.core.views import UnitView

__all__ = ["Form", "Outcome", "read_form", "register", "summary_message"]

log = logging.getLogger(__name__)

# The shortcuts of slack/manifest.yml: "Invite suppliers" anywhere, and on a message, with its addresses.
GLOBAL_SHORTCUT, MESSAGE_SHORTCUT = "invite_suppliers", "invite_from_message"


@dataclass(frozen=True)
class Form:
    emails: tuple[str, ...]
    supplier_name: str | None
    types: tuple[str, ...]
    lang: str | None  # None: each invitation in the language that suits its address
    unit: str | None
    message: str | None
    supplier_id: int | None = None  # a known supplier chosen in the type-ahead, invited too


def _value(values: dict[str, Any], block_id: str) -> Any:
    return (values.get(block_id) or {}).get(VALUE) or {}


def read_form(t: Translator, values: dict[str, Any], *, default_lang: str | None,
              unit_choices: Sequence[UnitView]) -> tuple[Form | None, dict[str, str]]:
    """The form's values, or the errors to show next to the fields (block_id → text)."""
    errors: dict[str, str] = {}
    supplier_id = chosen_supplier(values)
    typed = _value(values, EMAILS).get("value") or ""
    emails: tuple[str, ...] = ()
    if typed.strip() or supplier_id is None:
        emails, error = parse_emails(t, typed)
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
    if lang not in SUPPORTED_LOCALES:  # "automatic": each invitation in the language that suits its address
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
    return Form(emails=emails, supplier_name=name, types=types, lang=lang, unit=unit, message=message,
                supplier_id=supplier_id), {}


def chosen_supplier(values: dict[str, Any]) -> int | None:
    """The supplier picked in a form's type-ahead, if any (its id is checked against the company later)."""
    picked = ((values.get(m.SUPPLIER) or {}).get(m.SUPPLIER_CHOICE) or {}).get("selected_option") or {}
    value = str(picked.get("value") or "")
    if not value:
        return None
    return int(value) if value.isdigit() and 0 < int(value) <= m.MAX_ID else 0  # 0: no one's (a forged value)


def _with_supplier(deps: Deps, who: Who, form: Form, supplier_id: int) -> tuple[Form | None, dict[str, str]]:
    """The form with the address of the supplier picked in it added (the one it was last invited
    at, or asked to connect from); or what to say next to the field."""
    t = who.t
    try:
        addresses = queries.supplier_addresses(deps.uow(), company_id=who.company_id, supplier_id=supplier_id)
    except NotFound:  # not one of ours (a forged id): answered like one that does not exist
        return None, {m.SUPPLIER: t("Choose one of the suppliers in the list.")}
    if not addresses:
        return None, {m.SUPPLIER: t("There is no address for this supplier yet: type one above.")}
    if addresses[0] in form.emails:
        return form, {}
    if len(form.emails) >= m.MAX_EMAILS:
        return None, {EMAILS: t("At most {max} addresses at a time; this list has {count}.", max=m.MAX_EMAILS,
                                count=len(form.emails) + 1)}
    return dataclasses.replace(form, emails=(addresses[0], *form.emails)), {}


# --- listeners --------------------------------------------------------------------------------

def register(app: App, deps: Deps) -> None:
    """The invite form's submission, and the shortcuts that open the form."""

    @app.shortcut(GLOBAL_SHORTCUT)
    def invite_shortcut(ack: Ack, shortcut: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        m.open_invite_modal(deps, context["who"], client, trigger_id=shortcut["trigger_id"])

    @app.shortcut(MESSAGE_SHORTCUT)
    def invite_from_message(ack: Ack, shortcut: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """The message's addresses, in the form: an admin checks them, picks the types and sends."""
        ack()
        text = (shortcut.get("message") or {}).get("text") or ""
        m.open_invite_modal(deps, context["who"], client, trigger_id=shortcut["trigger_id"],
                            emails=m.addresses_in(text))

    @app.options(m.SUPPLIER_CHOICE)
    def supplier_options(ack: Ack, payload: dict[str, Any], context: BoltContext) -> None:
        """The type-ahead over the company's suppliers (admins only: it names them and their addresses)."""
        ack(options=m.supplier_options(deps, context["who"], str(payload.get("value") or "")))

    @app.view(m.SHOW_CALLBACK_ID)
    def show_submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        """A supplier picked in ``/connect show``: the form turns into its connections and history."""
        who: Who = context["who"]
        supplier_id = chosen_supplier(view.get("state", {}).get("values", {}))
        try:
            who.require_admin()
        except NotAllowed as refusal:
            ack(response_action="errors", errors={m.SUPPLIER: who.t.error(refusal)})
            return
        try:
            message = m.partner_message_by_id(deps, who, supplier_id or 0)  # 0: nobody's
        except NotFound:  # not picked, or not one of ours (a forged id): answered alike
            ack(response_action="errors", errors={m.SUPPLIER: who.t("Choose one of the suppliers in the list.")})
            return
        ack(response_action="update", view=m.details_view(who.t, who.t("History"), message))

    @app.view(m.INVITE_CALLBACK_ID)
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
                                 unit_choices=m.units(deps, who.company_id))
        if form is not None and form.supplier_id is not None:
            form, errors = _with_supplier(deps, who, form, form.supplier_id)
        if form is None:
            ack(response_action="errors", errors=errors)
            return
        ack()
        # After the ack nothing is raised back to Bolt (see bot.context.answering_errors); a form has
        # no response_url, so what went wrong is logged.
        try:
            outcomes = m.invite_all(deps, who, form.emails, types=form.types, lang=form.lang, unit=form.unit,
                                  message=form.message, supplier_name=form.supplier_name)
            # A direct message: the bot can always write to the admin, whatever channel the form came from.
            client.chat_postMessage(channel=who.user_id, **summary_message(who.t, outcomes))
        except SlackApiError as error:
            log.warning("slack: could not send the invitation summary: %s", error.response.get("error"))
        except Exception:
            log.exception("slack: the invite form failed after it was accepted")
