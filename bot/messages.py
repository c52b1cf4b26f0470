"""Message builders the Slack surfaces share: the connection list, an invitation, a partner, the
requests, the help; the invite form (opened from ``/connect``, the App Home and the shortcuts) and
what sending it does; the App Home tab. Block Kit is built here as plain data; the listeners in the
surface modules (commands, modal, actions, home, notify) call these and never import each other.

Everything is scoped to the workspace's company and its units, through the engine's read side
(``tautan.core.queries``): an id that belongs to another company is answered exactly like an id that
does not exist.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tautan.bot import blocks as b
from tautan.bot.context import Deps, Who
from tautan.bot.ports import Workspace
from tautan.core import queries, services
from tautan.core.errors import InvalidInput, TautanError
from tautan.core.i18n import N_, SUPPORTED_LOCALES, Translator, translator
from tautan.core.model import DOCUMENT_TYPES, Status, search_key
from tautan.core.transitions import STATUS_LABELS
from tautan.core.views import (
    DOCUMENT_TYPE_LABELS,
    EVENT_LABELS,
    ActivityView,
    ConnectionView,
    DashboardView,
    EventView,
    InvitationView,
    PartnerView,
    UnitView,
)

log = logging.getLogger(__name__)

PER_PAGE = 10
MAX_REQUESTS = 20
MAX_PARTNER_ROWS = 15
MAX_ID = 2**31 - 1

HELP = (
    N_("`/connect` or `/connect invite`: invite suppliers with a form."),
    N_("`/connect invite ana@pt-maju.co.id invoice,order`: invite one supplier at once "
       "(invoice when no type is given)."),
    N_("`/connect list [status] [type] [partner]`: your suppliers, one row each with its document types, newest "
       "change first."),
    N_("`/connect show <invitation id or partner name>`: details and history; `/connect show` alone: pick a "
       "supplier by typing part of its name or address."),
    N_("`/connect requests`: suppliers waiting for your answer."),
    N_("`/connect resend <invitation id>` and `/connect cancel <invitation id>`: send an invitation again, "
       "or withdraw it."),
    N_("`/connect channel`: send the company's notices to this channel."),
    N_("`/connect lang en` or `/connect lang id`: your language; `/connect lang company en|id`: the language "
       "of the channel notices."),
    N_("`/connect admin add @someone`, `/connect admin remove @someone`, `/connect admin list`: who may "
       "invite and answer."),
    N_("`/connect export`: your connections as a CSV file, here."),
    N_("`/connect link [unit]`: the join page and request address to give your suppliers."),
    N_("`/connect profile`: what suppliers are told once connected, and the directory listing."),
    N_("`/connect help`: this list."),
)

# --- scope: what this workspace may see ---------------------------------------------------------

def owned_invitation(deps: Deps, who: Who, invitation_id: int) -> InvitationView:
    """The invitation, if it was sent by this company or one of its units; else NotFound."""
    return queries.owned_invitation(deps.uow(), company_id=who.company_id, invitation_id=invitation_id)


def owned_connection(deps: Deps, who: Who, connection_id: int) -> ConnectionView:
    """The connection, if its customer is this company or one of its units; else NotFound."""
    return queries.owned_connection(deps.uow(), company_id=who.company_id, connection_id=connection_id)


def parse_id(text: str) -> int:
    cleaned = text.strip().lstrip("#")
    if not cleaned.isdigit() or not 0 < int(cleaned) <= MAX_ID:
        raise InvalidInput(N_("{value} is not an id. Ids are whole numbers, as shown by /connect list."),
                           value=text[:50])
    return int(cleaned)


# --- messages -------------------------------------------------------------------------------

def parse_filters(t: Translator, words: Sequence[str]) -> tuple[list[str], list[str], str]:
    """``[status] [type] [partner text]``: status and type words in English or in the reader's
    language (``terhubung``, ``faktur``); everything else is the partner's name."""
    status_words = {s.value: s.value for s in Status}
    status_words |= {search_key(t(STATUS_LABELS[s].message_id)): s.value for s in Status}
    type_words = {code: code for code in DOCUMENT_TYPES}
    type_words |= {search_key(t(DOCUMENT_TYPE_LABELS[c].message_id)): c for c in DOCUMENT_TYPES
                   if c in DOCUMENT_TYPE_LABELS}
    statuses: list[str] = []
    types: list[str] = []
    partner: list[str] = []
    for word in words:
        key = search_key(word)
        if not partner and key in status_words and status_words[key] not in statuses:
            statuses.append(status_words[key])
        elif not partner and key in type_words and type_words[key] not in types:
            types.append(type_words[key])
        else:
            partner.append(word)
    return statuses, types, " ".join(partner)


def list_message(deps: Deps, who: Who, *, page: int = 1, statuses: Sequence[str] = (), types: Sequence[str] = (),
                 partner: str = "") -> dict[str, Any]:
    """One page of the company's suppliers, one row each with its document types and their status,
    a menu (or a History button) on each row, and Previous / Next."""
    t = who.t
    result = queries.partners(deps.uow(), company_id=who.company_id, partner=partner or None, types=types,
                              statuses=statuses, page=page, per_page=PER_PAGE)
    pages = max(1, -(-result.total // PER_PAGE))
    if page > pages:  # past the end (rows answered meanwhile, or a forged button): the last page
        result = queries.partners(deps.uow(), company_id=who.company_id, partner=partner or None, types=types,
                                  statuses=statuses, page=pages, per_page=PER_PAGE)
    summary = t.ngettext("Page {page} of {pages} · {n} supplier in all.",
                         "Page {page} of {pages} · {n} suppliers in all.", result.total,
                         page=t.number(result.page), pages=t.number(pages))
    blocks = [b.header(t("Connections"))]
    filters = [b.status_label(t, s) for s in statuses] + [b.type_label(t, c) for c in types]
    if partner:
        filters.append(f"“{partner}”")
    if filters:
        blocks.append(b.context(b.escape(t("Filtered by {filters}.", filters=t.list(filters)))))
    if not result.items:
        blocks.append(b.section(b.escape(t("No connections match."))))
    show_customer = any(c.customer_id != who.company_id for p in result.items for c in p.connections)
    blocks += [b.partner_row(t, p, admin=who.is_admin, show_customer=show_customer) for p in result.items]
    blocks.append(b.context(b.escape(summary)))
    buttons = b.paging(t, page=result.page, pages=pages, statuses=statuses, types=types, partner=partner)
    if buttons:
        blocks.append(buttons)
    return b.message(b.escape(summary), blocks)


def invitation_message(deps: Deps, who: Who, view: InvitationView) -> dict[str, Any]:
    """An invitation: to whom, for what, where it stands, its connections and its history."""
    t = who.t
    title = t("Invitation {id} from {customer} to {supplier} <{email}>", id=view.id, customer=view.customer,
              supplier=view.supplier, email=view.email)
    lines = [b.escape(t("Document types: {types}", types=b.types_label(t, view.types))),
             b.escape(t("Status: {status}", status=b.invitation_status_label(t, view.status))),
             b.escape(t("Language of the invitation: {lang}", lang=language_name(t, view.lang))),
             t("Expires: {date}", date=b.when(t, view.expires_at))]  # a date token, not to be escaped
    if view.message:
        lines.append(b.escape(t("Message: {message}", message=view.message)))
    blocks = [b.section(f"*{b.escape(title)}*"), b.section("\n".join(lines)),
              *identity_blocks(t, services.supplier_identity(deps.uow(), view.supplier_id))]
    blocks += [b.connection_row(t, c, admin=who.is_admin) for c in view.connections]
    events = services.history(deps.uow(), invitation_id=view.id)
    blocks += b.history_blocks(t, events, team_id=who.workspace.team_id)
    return b.message(b.escape(title), blocks)


def partner_message(deps: Deps, who: Who, text: str) -> dict[str, Any]:
    """A partner found by (part of) its name: its connections with this company and their history."""
    t = who.t
    found = queries.partners(deps.uow(), company_id=who.company_id, partner=text,
                             per_page=queries.MAX_PARTNERS_PER_PAGE)
    if not found.items:
        return b.message(b.escape(t("No connections match.")), [])
    if len(found.items) > 1:
        exact = [p for p in found.items if search_key(p.supplier) == search_key(text)]
        if len(exact) != 1:
            names = t.list(sorted((p.supplier for p in found.items), key=search_key))
            return b.message(b.escape(t("Several partners match {text}: {names}. Type more of the name, or give "
                                        "an invitation id.", text=text, names=names)), [])
        return partner_details(deps, who, exact[0])
    return partner_details(deps, who, found.items[0])


def partner_message_by_id(deps: Deps, who: Who, supplier_id: int) -> dict[str, Any]:
    """A supplier of this company (NotFound for any other): its connections and their history."""
    return partner_details(deps, who, queries.partner(deps.uow(), company_id=who.company_id, supplier_id=supplier_id))


def partner_details(deps: Deps, who: Who, partner: PartnerView) -> dict[str, Any]:
    """A supplier's identity, each of its connections with its own menu, and their history."""
    t = who.t
    rows = list(partner.connections[:MAX_PARTNER_ROWS])
    events: dict[int, EventView] = {}
    for c in rows:
        for event in services.history(deps.uow(), connection_id=c.id):
            events[event.id] = event
    for invitation_id in sorted({c.invitation_id for c in rows if c.invitation_id is not None}):
        for event in services.history(deps.uow(), invitation_id=invitation_id):
            events[event.id] = event
    ordered = sorted(events.values(), key=lambda e: (e.at, e.id))
    show_customer = any(c.customer_id != who.company_id for c in rows)
    identity = services.supplier_identity(deps.uow(), partner.supplier_id)
    blocks = [b.section(f"*{b.escape(partner.supplier)}*"), *identity_blocks(t, identity)]
    blocks += [b.connection_row(t, c, admin=who.is_admin, show_customer=show_customer) for c in rows]
    blocks += b.history_blocks(t, ordered, team_id=who.workspace.team_id)
    return b.message(b.escape(partner.supplier), blocks)


def open_in_modal(client: WebClient, body: dict[str, Any], t: Translator, title: str,
                  message: dict[str, Any]) -> bool:
    """Show a message's blocks in a modal (``/connect show``, History): it stays open while the
    person reads, unlike an ephemeral message. Pushed on top when asked from a modal already.
    False when Slack would not open it (the caller then answers with the message itself)."""
    trigger_id = body.get("trigger_id")
    if not trigger_id:
        return False
    view = details_view(t, title, message)
    in_modal = (body.get("view") or {}).get("type") == "modal"
    try:
        if in_modal:
            client.views_push(trigger_id=trigger_id, view=view)
        else:
            client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        log.info("slack: could not open a modal: %s", error.response.get("error"))
        return False
    return True


def requests_message(deps: Deps, who: Who, *, handled: ConnectionView | None = None,
                     handled_text: str = "") -> dict[str, Any]:
    """Supplier requests waiting for an answer, with Approve / Deny for admins. ``handled`` is the
    one just answered, shown first with who answered it."""
    t = who.t
    result = services.search(deps.uow(), company=who.company_id, statuses=[Status.REQUESTED.value],
                             per_page=MAX_REQUESTS)
    waiting = [c for c in result.items if handled is None or c.id != handled.id]
    total = result.total - (len(result.items) - len(waiting))
    show_customer = any(c.customer_id != who.company_id for c in [*waiting, *([handled] if handled else [])])
    title = t("Supplier requests waiting for an answer: {count}", count=t.number(total))
    blocks = [b.header(title)]
    if handled is not None:
        blocks += b.request_rows(t, handled, handled=handled_text, show_customer=show_customer)
    for c in waiting:
        blocks += b.request_rows(t, c, buttons=who.is_admin, show_customer=show_customer)
    if not waiting:
        blocks.append(b.section(b.escape(t("No supplier is waiting for an answer."))))
    elif total > len(waiting):
        blocks.append(b.context(b.escape(t("Showing the newest {shown} of {total}. Answer these to see the others.",
                                           shown=t.number(len(waiting)), total=t.number(total)))))
    return b.message(b.escape(title), blocks)


def help_message(t: Translator, *, unknown: str | None = None) -> dict[str, Any]:
    lines = [t(line) for line in HELP]
    blocks = []
    if unknown is not None:
        blocks.append(b.section(b.escape(t("There is no command {name}. This is what /connect can do:",
                                           name=unknown[:50]))))
    else:
        blocks.append(b.section(b.escape(t("Tautan connects your company with its suppliers. This is what "
                                           "/connect can do:"))))
    blocks += b.sections(f"• {b.escape(line)}" for line in lines)  # `<invitation id>` is text, not a link
    return b.message(b.escape(t("This is what /connect can do.")), blocks)


# --- the invite form ----------------------------------------------------------------------

INVITE_CALLBACK_ID = "invite"
MAX_EMAILS = 100
DEFAULT_TYPES = ("invoice",)
LANGUAGE_NAMES = {"en": N_("English"), "id": N_("Indonesian")}

# block_id -> action_id of the form's inputs
EMAILS, NAME, TYPES, LANG, UNIT, MESSAGE = "emails", "supplier_name", "types", "lang", "unit", "message"
VALUE = "value"
# A known supplier, chosen by typing part of its name or address: the block, and the action id the
# type-ahead's ``options`` listener answers for.
SUPPLIER, SUPPLIER_CHOICE = "supplier", "supplier_choice"
SHOW_CALLBACK_ID = "show_supplier"
AUTOMATIC = "auto"  # the language menu's first choice: each invitation in the language of its address


def units(deps: Deps, company_id: int) -> tuple[UnitView, ...]:
    """The units of a customer company, by name."""
    return queries.units(deps.uow(), company_id)


def language_name(t: Translator, locale: str) -> str:
    return t(LANGUAGE_NAMES[locale]) if locale in LANGUAGE_NAMES else locale


# --- the form ---------------------------------------------------------------------------------

def supplier_select(t: Translator) -> dict[str, Any]:
    return b.external_select(SUPPLIER_CHOICE, placeholder=t("Type part of its name or address"))


def supplier_options(deps: Deps, who: Who, typed: str) -> list[dict[str, Any]]:
    """The type-ahead's answer: at most 100 of the company's suppliers whose name or address
    contains what was typed, each with the address it was last invited at."""
    who.require_admin()
    choices = queries.supplier_choices(deps.uow(), company_id=who.company_id, text=typed[:200])
    return [b.option(f"{c.name} · {c.email}" if c.email else c.name, str(c.id)) for c in choices]


def invite_view(t: Translator, *, lang: str, unit_choices: Sequence[UnitView],
                emails: Sequence[str] = (), known_suppliers: bool = False) -> dict[str, Any]:
    """The invite modal; ``lang`` is the preselected language (the admin's own), kept in the
    private metadata to tell, on submit, whether the admin changed it. With ``known_suppliers``
    it also offers to invite one of the company's suppliers (for more document types, or again),
    chosen by type-ahead; the addresses are then optional."""
    type_options = [b.option(b.type_label(t, code), code) for code in DOCUMENT_TYPES]
    automatic = b.option(t("Automatic (from the address)"), AUTOMATIC)
    lang_options = {AUTOMATIC: automatic} | {code: b.option(language_name(t, code), code) for code in SUPPORTED_LOCALES}
    form = [
        b.input_block(EMAILS, t("Supplier email addresses"),
                      b.text_input(VALUE, multiline=True, placeholder="ana@pt-maju.co.id",
                                   initial="\n".join(emails[:MAX_EMAILS])),
                      hint=t("One address a line, at most {max}.", max=MAX_EMAILS), optional=known_suppliers),
        *([b.input_block(SUPPLIER, t("Or a supplier you already work with"), supplier_select(t), optional=True,
                         hint=t("It is invited at the address it was last invited at, or asked to connect from."))]
          if known_suppliers else []),
        b.input_block(NAME, t("Supplier company name"), b.text_input(VALUE, max_length=services.MAX_NAME_LENGTH),
                      optional=True, hint=t("Leave empty to use the name the supplier already has with us.")),
        b.input_block(TYPES, t("Document types"),
                      b.checkboxes(VALUE, type_options,
                                   initial=[o for o in type_options if o["value"] in DEFAULT_TYPES])),
        b.input_block(LANG, t("Language of the invitation"),
                      b.static_select(VALUE, list(lang_options.values()), initial=automatic),
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
    return b.modal(INVITE_CALLBACK_ID, t("Invite suppliers"), form, submit=t("Send"), close=t("Cancel"),
                   private_metadata=metadata)


def open_invite_modal(deps: Deps, who: Who, client: WebClient, *, trigger_id: str, emails: Sequence[str] = ()) -> None:
    """Open the invite form for an admin (from ``/connect``, the App Home button or a shortcut),
    with ``emails`` already filled in."""
    who.require_admin()
    known = bool(queries.supplier_choices(deps.uow(), company_id=who.company_id, limit=1))
    view = invite_view(who.t, lang=who.locale, unit_choices=units(deps, who.company_id), emails=emails,
                       known_suppliers=known)
    client.views_open(trigger_id=trigger_id, view=view)


def show_view(t: Translator) -> dict[str, Any]:
    """``/connect show`` alone: pick one of the company's suppliers by type-ahead, then see it."""
    return b.modal(SHOW_CALLBACK_ID, t("Show a supplier"), [
        b.input_block(SUPPLIER, t("Supplier"), supplier_select(t),
                      hint=t("Its connections and their history are shown here."))],
        submit=t("Show"), close=t("Cancel"))


def details_view(t: Translator, title: str, message: dict[str, Any]) -> dict[str, Any]:
    """A message's blocks as a read-only modal (``/connect show``, History)."""
    return {"type": "modal", "title": b.plain(title, 24), "close": b.plain(t("Close"), 24),
            "blocks": list(message.get("blocks") or [])[:MAX_BLOCKS]}


_MAILTO = re.compile(r"<mailto:([^|>]+)(?:\|[^>]*)?>")


def unwrap_mailto(text: str) -> str:
    """Slack may turn a typed address into ``<mailto:ana@x.id|ana@x.id>``: keep the address."""
    return _MAILTO.sub(r"\1", text)


_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def addresses_in(text: str) -> list[str]:
    """The valid email addresses in a message, in order and without repeats (at most ``MAX_EMAILS``)."""
    found: list[str] = []
    for candidate in _ADDRESS.findall(unwrap_mailto(text)):
        try:
            address = services.normalize_email(candidate)
        except InvalidInput:
            continue
        if address not in found:
            found.append(address)
    return found[:MAX_EMAILS]


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


# --- the notice channel ----------------------------------------------------------------------

CHOOSE_CHANNEL_ACTION = "choose_channel"
CHANNEL_CALLBACK_ID = "choose_channel"
PROFILE_CALLBACK_ID = "profile_modal"
CHANNEL_BLOCK = "channel"
CHANNEL_SET = N_("This channel will now receive the notices of {company}: answers from suppliers, requests, "
                 "bounces and expired invitations.")


def channel_problem_message(t: Translator, company: str, channel_id: str, error: str) -> tuple[str, list[Any]]:
    """What admins are told, once, when the notice channel stopped working."""
    text = t("Tautan can no longer post the notices of {company} in {channel} (Slack says {error}). They are kept "
             "until a channel works again: add the app to the channel, or choose another one.",
             company=b.escape(company), channel=f"<#{channel_id}>", error=f"`{b.escape(error)}`")
    return b.cut(text, 3000), [b.section(text), b.actions(
        b.button(t("Choose a channel"), CHOOSE_CHANNEL_ACTION, "choose", style="primary"), block_id="channel_problem")]


def channel_view(t: Translator) -> dict[str, Any]:
    """A form to choose the channel of the notices."""
    select = {"type": "conversations_select", "action_id": VALUE, "placeholder": b.plain(t("Choose a channel"), 150),
              "filter": {"include": ["public", "private"], "exclude_bot_users": True}}
    return b.modal(CHANNEL_CALLBACK_ID, t("Notice channel"), [
        b.input_block(CHANNEL_BLOCK, t("Channel for the notices"), select,
                      hint=t("Add the app to a private channel before you choose it."))],
        submit=t("Choose"), close=t("Cancel"))


def use_channel(deps: Deps, who: Who, client: WebClient, channel_id: str) -> str | None:
    """Make ``channel_id`` the company's notice channel, after a first message there shows that we
    can post in it; else what went wrong, for the admin."""
    company = services.get_company(deps.uow(), who.company_id)
    channel_t = translator(who.workspace.locale)  # the channel reads notices in the company's language
    try:
        client.chat_postMessage(channel=channel_id, text=b.escape(channel_t(CHANNEL_SET, company=company.name)))
    except SlackApiError as error:
        log.info("slack: cannot post in the chosen channel: %s", error.response.get("error"))
        return who.t("I cannot post in this channel. Add the app to the channel first, then try again.")
    deps.store.set_channel(who.workspace.id, channel_id)
    # Only a company with a channel gets notices queued (the engine knows no Slack, so it is told).
    services.set_notices_wanted(deps.uow(), company_id=who.company_id, wanted=True, actor=who.actor, via="slack")
    return None


# --- the App Home tab -----------------------------------------------------------------------

INVITE_ACTION = "open_invite"
SET_LANGUAGE_ACTION = "set_language"
HOME_PAGE_PREV, HOME_PAGE_NEXT = "home_page_prev", "home_page_next"
HOME_REQUESTS = 10  # each takes two blocks
HOME_ROWS = 5  # of the invited, the connected and the problems
MAX_BLOCKS = 100  # Slack's limit for a Home tab
MAX_HOME_PAGE = 10_000  # a page number beyond this in a button's value was not ours


@dataclass(frozen=True)
class HomeSection:
    """One page of one section of the Home tab: the requests waiting for an answer (``r``), the
    invited (``i``), the connected (``c``) or the problems, expired invitations and requests (``x``)."""

    key: str
    items: tuple[ConnectionView, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


HOME_SECTIONS: dict[str, tuple[Status, int]] = {
    "r": (Status.REQUESTED, HOME_REQUESTS), "i": (Status.INVITED, HOME_ROWS),
    "c": (Status.CONNECTED, HOME_ROWS), "x": (Status.EXPIRED, HOME_ROWS)}


@dataclass(frozen=True)
class Dashboard:
    """What the Home tab shows: the engine's dashboard and one page of each section."""

    view: DashboardView
    sections: Mapping[str, HomeSection]

    @property
    def pages(self) -> dict[str, int]:
        return {key: section.page for key, section in self.sections.items()}


def publish_home(client: WebClient, who: Who, deps: Deps, *, pages: Mapping[str, int] | None = None) -> None:
    """Publish (or refresh, e.g. after an approval) the user's Home tab, each section at its page
    (the first unless a paging button asked for another)."""
    dashboard = load_dashboard(deps, who.company_id, pages=pages)
    view = home_view(dashboard, who.t, is_admin=who.is_admin, workspace=who.workspace,
                     identities=_identities(deps, dashboard.sections["r"].items))
    if not who.chose_language:  # once, until they choose: Slack never tells us a person reads Indonesian
        view["blocks"] = [*language_picker(who.t), *view["blocks"]][:MAX_BLOCKS]
    client.views_publish(user_id=who.user_id, view=view)


def home_pages_value(pages: Mapping[str, int]) -> str:
    """The page of each section, as a paging button of the Home tab carries it (compact JSON)."""
    return json.dumps({key: page for key, page in sorted(pages.items()) if page != 1}, separators=(",", ":"))


def read_home_pages(value: str) -> dict[str, int]:
    """The pages back from a paging button: a section whose page is missing, malformed or out of
    range (a forged value) is on its first page."""
    try:
        data = json.loads(value)
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        return {}
    return {key: page for key, page in data.items() if key in HOME_SECTIONS and type(page) is int
            and 1 <= page <= MAX_HOME_PAGE}


def _identities(deps: Deps, requests: Sequence[ConnectionView]) -> dict[int, services.IdentityView]:
    """The suppliers of waiting requests that told us who they are (or look like another company)."""
    found = {}
    for supplier_id in {r.supplier_id for r in requests}:
        identity = services.supplier_identity(deps.uow(), supplier_id)
        if identity.legal_name or identity.tax_id or identity.peppol_id or identity.duplicate_of:
            found[supplier_id] = identity
    return found


def language_picker(t: Translator) -> list[dict[str, Any]]:
    """Each language named in itself, so that whoever reads the other one finds theirs."""
    return [b.section(b.escape(t("Which language do you want to read Tautan in? You can change it later with "
                                 "/connect lang."))),
            b.actions(*(b.button(translator(code)(LANGUAGE_NAMES[code]), SET_LANGUAGE_ACTION, code)
                        for code in SUPPORTED_LOCALES), block_id="home_language"), b.divider()]


def load_dashboard(deps: Deps, company_id: int, *, pages: Mapping[str, int] | None = None) -> Dashboard:
    """Everything the Home tab shows, for one customer company and its units."""
    sections = {key: _home_section(deps, company_id, key, (pages or {}).get(key, 1)) for key in HOME_SECTIONS}
    return Dashboard(view=queries.dashboard(deps.uow(), company_id), sections=sections)


def _home_section(deps: Deps, company_id: int, key: str, page: int) -> HomeSection:
    status, per_page = HOME_SECTIONS[key]
    result = services.search(deps.uow(), company=company_id, statuses=[status], page=page, per_page=per_page)
    if page > 1 and not result.items:  # past the last page (answered meanwhile, or a forged value): the first
        page = 1
        result = services.search(deps.uow(), company=company_id, statuses=[status], per_page=per_page)
    return HomeSection(key=key, items=result.items, total=result.total, page=page, per_page=per_page)


def home_paging(t: Translator, dashboard: Dashboard, key: str) -> list[dict[str, Any]]:
    """Where a section's page stands, and Previous / Next when it has more than one page; each button
    carries the pages of every section, so that paging one keeps the others where they are."""
    section = dashboard.sections[key]
    if section.pages <= 1:
        return []
    first = (section.page - 1) * section.per_page + 1
    shown = t("{first} to {last} of {total}", first=t.number(first), last=t.number(first + len(section.items) - 1),
              total=t.number(section.total))
    buttons = []
    for action_id, label, page in ((HOME_PAGE_PREV, t("Previous"), section.page - 1),
                                   (HOME_PAGE_NEXT, t("Next"), section.page + 1)):
        if 1 <= page <= section.pages:
            buttons.append(b.button(label, action_id, home_pages_value({**dashboard.pages, key: page})))
    return [b.context(b.escape(shown)), b.actions(*buttons, block_id=f"home_paging:{key}")]


def home_view(dashboard: Dashboard, t: Translator, *, is_admin: bool, workspace: Workspace | None = None,
              identities: Mapping[int, services.IdentityView] | None = None) -> dict[str, Any]:
    """The Home tab as Block Kit (plain data), at most 100 blocks."""
    overview = dashboard.view
    summary = [b.escape(t.ngettext("{n} connection", "{n} connections", overview.total))]
    if overview.units:
        summary.append(t("Including the units {units}.", units=t.list(b.escape(name) for name in overview.units)))
    blocks: list[dict[str, Any]] = [b.header(t("Connections of {company}", company=overview.company)),
                                    b.context(*summary)]
    if is_admin:
        blocks.append(b.actions(b.button(t("Invite suppliers"), INVITE_ACTION, "home", style="primary"),
                                block_id="home_invite"))
    if workspace is not None and workspace.channel_error and workspace.channel_id:
        problem = t("The notices cannot be posted in {channel} (Slack says {error}); they are kept until a "
                    "channel works again.", channel=f"<#{workspace.channel_id}>",
                    error=f"`{b.escape(workspace.channel_error)}`")
        blocks.append(b.section(problem, accessory=b.button(t("Choose a channel"), CHOOSE_CHANNEL_ACTION, "choose")
                                if is_admin else None))
    if overview.total:
        fields = [b.mrkdwn(f"*{_capitalize(b.status_label(t, status))}*\n{t.number(overview.counts[status])}")
                  for status in Status if overview.counts.get(status)]
        blocks.append({"type": "section", "fields": fields[:10]})
    else:
        blocks.append(b.section(t("No connections yet. Invite your first suppliers to begin.")))

    requests = dashboard.sections["r"]
    blocks += [b.divider(), b.header(t("Requests waiting for an answer"))]
    for request in requests.items:
        in_unit = request.customer_id != overview.company_id
        blocks += b.request_rows(t, request, buttons=is_admin, show_customer=in_unit)
        if identities and request.supplier_id in identities:  # who the supplier says it is, or a warning
            blocks += identity_blocks(t, identities[request.supplier_id])
    if not requests.items:
        blocks.append(b.context(t("No requests are waiting.")))
    blocks += home_paging(t, dashboard, "r")

    units = bool(overview.units)
    for key, title, empty in (("i", t("Invited, waiting for the supplier"),
                               t("No invitation is waiting for an answer.")),
                              ("c", t("Connected"), None), ("x", t("Needs a look"), None)):
        section = dashboard.sections[key]
        if not section.items and empty is None:  # no one connected yet, nothing wrong: no section
            continue
        blocks += [b.divider(), b.header(title)]
        blocks += [b.connection_row(t, c, admin=is_admin, show_customer=units) for c in section.items]
        if not section.items and empty:
            blocks.append(b.context(empty))
        blocks += home_paging(t, dashboard, key)

    blocks += [b.divider(), b.header(t("Recent activity"))]
    for item in overview.activity:
        blocks.append(b.context(f"{_activity_line(item, t)} · {b.when(t, item.at)}"))
    if not overview.activity:
        blocks.append(b.context(t("Nothing has happened yet.")))
    if not is_admin:
        blocks += [b.divider(), b.context(t("Only admins can invite suppliers and answer requests."))]
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}


def _activity_line(item: ActivityView, t: Translator) -> str:
    label = EVENT_LABELS.get(item.kind)
    what = t(label.message_id) if label else item.kind
    if not item.partner:
        return b.escape(what)
    partner = f"*{b.escape(item.partner)}*"
    if item.types:
        return t("{partner}: {event} ({types})", partner=partner, event=b.escape(what),
                 types=b.types_label(t, item.types))
    return t("{partner}: {event}", partner=partner, event=b.escape(what))


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- the supplier sign-up: join links and a supplier's identity -----------------------------------

def join_url(deps: Deps, who: Who, unit: str | None = None) -> tuple[str, str]:
    """The join page of the workspace's company (or one of its units), and a slug to name files by."""
    target = services.join_link(deps.uow(), who.company_id, unit=unit)
    base = deps.public_base_url.rstrip("/")
    return (f"{base}/join/{target.customer_slug}" + (f"/{target.unit_slug}" if target.unit_slug else ""),
            target.request_slug)


def join_message(deps: Deps, who: Who, unit: str | None = None) -> dict[str, Any]:
    """The join page, the request address, and where the QR code comes from."""
    t = who.t
    target = services.join_link(deps.uow(), who.company_id, unit=unit)
    url, _slug = join_url(deps, who, unit)
    address = f"request+{target.request_slug}@{deps.mail_domain}"
    lines = [t("Suppliers can ask {customer} to connect on this page: {url}", customer=b.escape(target.display_name),
               url=f"<{url}>"),
             t("Or by writing to {address}.", address=b.escape(address)),
             t("For a QR code to print, run: {command}", command=f"`tautan link {b.escape(target.name)}`")]
    return b.message(b.escape(url), [b.section(line) for line in lines])


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
    return b.modal(PROFILE_CALLBACK_ID, t("Supplier onboarding"), blocks, submit=t("Save"), close=t("Cancel"))


def open_profile(deps: Deps, who: Who, client: WebClient, *, trigger_id: str) -> None:
    who.require_admin()
    profile = services.customer_profile(deps.uow(), who.company_id)
    client.views_open(trigger_id=trigger_id, view=profile_view(who.t, profile))
