"""Slack surface: the ``/connect`` command and its subcommands.

Every answer is an ephemeral message through the command's ``response_url`` (``respond``), in the
asker's language. Everything is scoped to the workspace's company and its units: an id that
belongs to another company is answered exactly like an id that does not exist.

``/connect`` alone or ``/connect invite`` opens the invite form; ``/connect help`` lists the rest.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, select

from tautan.bot import blocks as b
from tautan.bot import modal
from tautan.bot.app import Deps, Who
from tautan.bot.app import on_error
from tautan.core import services
from tautan.core.errors import InvalidInput, NotFound
from tautan.core.i18n import N_, SUPPORTED_LOCALES, Translator, normalize_locale, translator
from tautan.core.model import DOCUMENT_TYPES, Company, Connection, Status, search_key
from tautan.core.transitions import STATUS_LABELS
from tautan.core.views import DOCUMENT_TYPE_LABELS, ConnectionView, EventView, InvitationView, connection_view

log = logging.getLogger(__name__)

COMMAND = "/connect"
PER_PAGE = 10
MAX_REQUESTS = 20
MAX_PARTNER_ROWS = 15
MAX_ID = 2**31 - 1

HELP = (
    N_("`/connect` or `/connect invite`: invite suppliers with a form."),
    N_("`/connect invite ana@pt-maju.co.id invoice,order`: invite one supplier at once (invoice when no type is given)."),
    N_("`/connect list [status] [type] [partner]`: your connections, newest change first."),
    N_("`/connect show <invitation id or partner name>`: details and history."),
    N_("`/connect requests`: suppliers waiting for your answer."),
    N_("`/connect resend <invitation id>` and `/connect cancel <invitation id>`: send an invitation again, or withdraw it."),
    N_("`/connect channel`: send the company's notices to this channel."),
    N_("`/connect lang en` or `/connect lang id`: your language; `/connect lang company en|id`: the language of the channel notices."),
    N_("`/connect admin add @someone`, `/connect admin remove @someone`, `/connect admin list`: who may invite and answer."),
    N_("`/connect help`: this list."),
)

# Said in a language other than the asker's (the channel's, or the one just chosen): marked here
# so that they are extracted for the catalogs.
CHANNEL_SET = N_("This channel will now receive the notices of {company}: answers from suppliers, requests, "
                 "bounces and expired invitations.")
COMPANY_LANG_SET = N_("Notices in the channel will now be in {language}.")
USER_LANG_SET = N_("You will now see tautan in {language}.")
USER_LANG_RESET = N_("You will see tautan in the language of your Slack settings.")


@contextmanager
def answering_errors(context: BoltContext, respond: Respond | None, body: dict[str, Any]) -> Iterator[None]:
    """Errors raised after ``ack()`` are answered here, through the app's one error table
    (``bot.app``), instead of being raised back to Bolt: slack-bolt 1.30's thread runner sets
    ``ack.response`` back to None when a listener raises after acknowledging, so a quick user error
    could make Bolt answer Slack with a 404 (``dispatch_failed`` for the user)."""
    try:
        yield
    except Exception as error:  # every error is answered by the app's handler; it logs the unexpected ones
        on_error(error, context, respond, body, context.client)


# --- scope: what this workspace may see ---------------------------------------------------------

def company_ids(deps: Deps, company_id: int) -> frozenset[int]:
    """The workspace's company and its units: the only customers whose data it sees."""
    with deps.uow() as uow:
        ids = uow.session.scalars(select(Company.id).where(
            or_(Company.id == company_id, Company.parent_id == company_id)))
        return frozenset(ids)


def owned_invitation(deps: Deps, who: Who, invitation_id: int) -> InvitationView:
    """The invitation, if it was sent by this company or one of its units; else NotFound, the same
    answer as for an id that does not exist."""
    missing = NotFound(N_("There is no invitation with id {id}."), id=invitation_id)
    try:
        view = services.get_invitation(deps.uow(), invitation_id=invitation_id)
    except NotFound:
        raise missing from None
    if view.customer_id not in company_ids(deps, who.company_id):
        raise missing
    return view


def owned_connection(deps: Deps, who: Who, connection_id: int) -> ConnectionView:
    """The connection, if its customer is this company or one of its units; else NotFound."""
    with deps.uow() as uow:
        connection = uow.session.get(Connection, connection_id)
        if connection is None or who.company_id not in (connection.customer_id, connection.customer.parent_id):
            raise NotFound(N_("There is no connection with id {id}."), id=connection_id)
        return connection_view(connection)


def parse_id(text: str) -> int:
    cleaned = text.strip().lstrip("#")
    if not cleaned.isdigit() or not 0 < int(cleaned) <= MAX_ID:
        raise InvalidInput(N_("{value} is not an id. Ids are whole numbers, as shown by /connect list."),
                           value=text[:50])
    return int(cleaned)


# --- messages shared with the buttons (bot/actions.py) -----------------------------------------

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
    """One page of the company's connections, with a menu on each row and Previous / Next."""
    t = who.t
    result = services.search(deps.uow(), company=who.company_id, partner=partner or None, types=types,
                             statuses=statuses, page=page, per_page=PER_PAGE)
    summary = (t("Page {page} of {pages} · {total} connections in all.", page=t.number(result.page),
                 pages=t.number(result.pages), total=t.number(result.total)) if result.exact
               else t("Page {page} · more than {total} connections match.", page=t.number(result.page),
                      total=t.number(result.total)))
    blocks = [b.header(t("Connections"))]
    filters = [b.status_label(t, s) for s in statuses] + [b.type_label(t, c) for c in types]
    if partner:
        filters.append(f"“{partner}”")
    if filters:
        blocks.append(b.context(b.escape(t("Filtered by {filters}.", filters=t.list(filters)))))
    if not result.items:
        blocks.append(b.section(b.escape(t("No connections match."))))
    show_customer = any(c.customer_id != who.company_id for c in result.items)
    blocks += [b.connection_row(t, c, admin=who.is_admin, show_customer=show_customer) for c in result.items]
    blocks.append(b.context(b.escape(summary)))
    buttons = b.paging(t, page=result.page, pages=result.pages if result.exact else result.page + 1,
                       statuses=statuses, types=types, partner=partner)
    if buttons:
        blocks.append(buttons)
    return b.message(b.escape(summary), blocks)


def invitation_message(deps: Deps, who: Who, view: InvitationView) -> dict[str, Any]:
    """An invitation: to whom, for what, where it stands, its connections and its history."""
    t = who.t
    title = t("Invitation {id} from {customer} to {supplier} <{email}>", id=view.id, customer=view.customer,
              supplier=view.supplier, email=view.email)
    lines = [t("Document types: {types}", types=b.types_label(t, view.types)),
             t("Status: {status}", status=b.invitation_status_label(t, view.status)),
             t("Language of the invitation: {lang}", lang=modal.language_name(t, view.lang)),
             t("Expires: {date}", date=b.when(t, view.expires_at))]
    if view.message:
        lines.append(t("Message: {message}", message=view.message))
    blocks = [b.section(f"*{b.escape(title)}*"), b.section("\n".join(b.escape(line) for line in lines))]
    blocks += [b.connection_row(t, c, admin=who.is_admin) for c in view.connections]
    events = services.history(deps.uow(), invitation_id=view.id)
    blocks += b.history_blocks(t, events, team_id=who.workspace.team_id)
    return b.message(b.escape(title), blocks)


def partner_message(deps: Deps, who: Who, text: str) -> dict[str, Any]:
    """A partner found by (part of) its name: its connections with this company and their history."""
    t = who.t
    found = services.search(deps.uow(), company=who.company_id, partner=text, per_page=50).items
    suppliers: dict[int, str] = {}
    for c in found:
        suppliers.setdefault(c.supplier_id, c.supplier)
    if not suppliers:
        return b.message(b.escape(t("No connections match.")), [])
    if len(suppliers) > 1:
        exact = [sid for sid, name in suppliers.items() if search_key(name) == search_key(text)]
        if len(exact) != 1:
            names = t.list(sorted(suppliers.values(), key=search_key))
            return b.message(b.escape(t("Several partners match {text}: {names}. Type more of the name, or give "
                                        "an invitation id.", text=text, names=names)), [])
        suppliers = {exact[0]: suppliers[exact[0]]}
    (supplier_id, name), = suppliers.items()
    rows = [c for c in found if c.supplier_id == supplier_id][:MAX_PARTNER_ROWS]
    events: dict[int, EventView] = {}
    for c in rows:
        for event in services.history(deps.uow(), connection_id=c.id):
            events[event.id] = event
    for invitation_id in sorted({c.invitation_id for c in rows if c.invitation_id is not None}):
        for event in services.history(deps.uow(), invitation_id=invitation_id):
            events[event.id] = event
    ordered = sorted(events.values(), key=lambda e: (e.at, e.id))
    show_customer = any(c.customer_id != who.company_id for c in rows)
    blocks = [b.section(f"*{b.escape(name)}*")]
    blocks += [b.connection_row(t, c, admin=who.is_admin, show_customer=show_customer) for c in rows]
    blocks += b.history_blocks(t, ordered, team_id=who.workspace.team_id)
    return b.message(b.escape(name), blocks)


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
        blocks.append(b.section(b.escape(t("tautan connects your company with its suppliers. This is what "
                                           "/connect can do:"))))
    blocks += b.sections(f"• {b.escape(line)}" for line in lines)  # `<invitation id>` is text, not a link
    return b.message(b.escape(t("This is what /connect can do.")), blocks)


# --- the command ------------------------------------------------------------------------------

@dataclass
class Asked:
    """One ``/connect`` as typed: who, what, and how to answer."""

    deps: Deps
    who: Who
    command: dict[str, Any]
    respond: Respond
    client: WebClient
    args: list[str] = field(default_factory=list)

    @property
    def t(self) -> Translator:
        return self.who.t

    def reply(self, text: str = "", *, message: dict[str, Any] | None = None) -> None:
        """An ephemeral answer; ``text`` is mrkdwn, already escaped."""
        self.respond(**(message or {"text": text}), response_type="ephemeral")


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def register(app: App, deps: Deps) -> None:
    """Attach ``/connect`` to the app."""

    @app.command(COMMAND)
    def connect(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext,
                body: dict[str, Any]) -> None:
        ack()
        with answering_errors(context, respond, body):
            who: Who = context["who"]
            text = modal.unwrap_mailto(command.get("text") or "")
            name, *args = text.split() or [""]
            asked = Asked(deps=deps, who=who, command=command, respond=respond, client=client, args=args)
            handler = SUBCOMMANDS.get(name.lower())
            if handler is None:
                asked.reply(message=help_message(who.t, unknown=name))
            else:
                handler(asked)


def _open_form(asked: Asked) -> None:
    modal.open_invite_modal(asked.deps, asked.who, asked.client, trigger_id=asked.command.get("trigger_id", ""))


def _invite(asked: Asked) -> None:
    if not asked.args:
        return _open_form(asked)
    asked.who.require_admin()
    t = asked.t
    emails = [a for a in asked.args if "@" in a]
    types: list[str] = []
    words = {code: code for code in DOCUMENT_TYPES}
    words |= {search_key(t(DOCUMENT_TYPE_LABELS[c].message_id)): c for c in DOCUMENT_TYPES if c in DOCUMENT_TYPE_LABELS}
    for arg in asked.args:
        if "@" in arg:
            continue
        for part in filter(None, (p.strip() for p in arg.split(","))):
            code = words.get(search_key(part))
            if code is None:
                raise InvalidInput(N_("Unknown document type {type}. Known types: {known}."), type=part[:50],
                                   known=list(DOCUMENT_TYPES))
            if code not in types:
                types.append(code)
    if not emails:
        raise InvalidInput(N_("Give an email address, for example /connect invite ana@pt-maju.co.id invoice, or type "
                              "/connect invite alone to open the form."))
    emails = list(dict.fromkeys(e.lower() for e in emails))
    if len(emails) > modal.MAX_EMAILS:
        raise InvalidInput(N_("At most {max} addresses at a time; this list has {count}."), max=modal.MAX_EMAILS,
                           count=len(emails))
    # Each address is checked by the service: a bad one is reported in the summary, the others go out.
    outcomes = modal.invite_all(asked.deps, asked.who, emails, types=types or modal.DEFAULT_TYPES)
    asked.reply(message=modal.summary_message(t, outcomes))


def _list(asked: Asked) -> None:
    statuses, types, partner = parse_filters(asked.t, asked.args)
    asked.reply(message=list_message(asked.deps, asked.who, statuses=statuses, types=types, partner=partner))


def _show(asked: Asked) -> None:
    if not asked.args:
        raise InvalidInput(N_("Say what to show, for example /connect show 12 or /connect show maju."))
    text = " ".join(asked.args)
    if len(asked.args) == 1 and text.lstrip("#").isdigit():
        view = owned_invitation(asked.deps, asked.who, parse_id(text))
        asked.reply(message=invitation_message(asked.deps, asked.who, view))
    else:
        asked.reply(message=partner_message(asked.deps, asked.who, text))


def _requests(asked: Asked) -> None:
    asked.reply(message=requests_message(asked.deps, asked.who))


def _invitation_id(asked: Asked, example: str) -> int:
    if len(asked.args) != 1:
        raise InvalidInput(N_("Say which invitation, for example {example}."), example=example)
    return parse_id(asked.args[0])


def _resend(asked: Asked) -> None:
    asked.who.require_admin()
    invitation_id = _invitation_id(asked, "/connect resend 12")
    owned_invitation(asked.deps, asked.who, invitation_id)
    view = services.resend(asked.deps.uow(), invitation_id=invitation_id, actor=asked.who.actor, via="slack")
    asked.reply(b.escape(asked.t("Invitation {id} to {supplier} will be sent again.", id=view.id,
                                 supplier=view.supplier)))


def _cancel(asked: Asked) -> None:
    asked.who.require_admin()
    invitation_id = _invitation_id(asked, "/connect cancel 12")
    owned_invitation(asked.deps, asked.who, invitation_id)
    view = services.cancel(asked.deps.uow(), invitation_id=invitation_id, actor=asked.who.actor, via="slack")
    asked.reply(b.escape(asked.t("Invitation {id} to {supplier} is cancelled.", id=view.id, supplier=view.supplier)))


def _channel(asked: Asked) -> None:
    who = asked.who
    who.require_admin()
    channel_id = asked.command.get("channel_id") or ""
    if not channel_id or channel_id.startswith("D"):
        raise InvalidInput(N_("Type this command in the channel that should receive the notices."))
    company = services.get_company(asked.deps.uow(), who.company_id)
    channel_t = translator(who.workspace.locale)  # the channel reads notices in the company's language
    try:
        asked.client.chat_postMessage(channel=channel_id, text=b.escape(channel_t(CHANNEL_SET, company=company.name)))
    except SlackApiError as error:
        log.info("slack: cannot post in the chosen channel: %s", error.response.get("error"))
        asked.reply(b.escape(asked.t("I cannot post in this channel. Add the app to the channel first, then try "
                                     "again.")))
        return
    asked.deps.store.set_channel(who.workspace.id, channel_id)


def _locale(value: str) -> str:
    locale = normalize_locale(value, default="")
    if locale not in SUPPORTED_LOCALES:
        raise InvalidInput(N_("Unsupported language {lang}. Choose en or id."), lang=value[:20])
    return locale


def _lang(asked: Asked) -> None:
    who, t, store = asked.who, asked.t, asked.deps.store
    args = [a.lower() for a in asked.args]
    if args[:1] == ["company"]:
        if len(args) == 1:
            asked.reply(b.escape(t("Notices in the channel are in {language}.",
                                   language=modal.language_name(t, who.workspace.locale))))
            return
        who.require_admin()
        locale = _locale(args[1])
        store.set_locale(who.workspace.id, locale)
        services.set_company_locale(asked.deps.uow(), company_id=who.company_id, locale=locale, actor=who.actor,
                                    via="slack")
        new_t = translator(locale)
        asked.reply(b.escape(new_t(COMPANY_LANG_SET, language=modal.language_name(new_t, locale))))
        return
    if not args:
        user = store.user(who.workspace.id, who.user_id)
        if user is not None and user.lang_override:
            text = t("You see tautan in {language}. Change it with /connect lang en or /connect lang id.",
                     language=modal.language_name(t, who.locale))
        else:
            text = t("You see tautan in {language}, the language of your Slack settings. Change it with "
                     "/connect lang en or /connect lang id.", language=modal.language_name(t, who.locale))
        asked.reply(b.escape(text))
        return
    if args[0] in ("auto", "slack"):
        user = store.save_user(who.workspace.id, who.user_id, lang_override=None)
        new_t = translator(normalize_locale(user.slack_locale, who.workspace.locale))
        asked.reply(b.escape(new_t(USER_LANG_RESET)))
        return
    locale = _locale(args[0])
    store.save_user(who.workspace.id, who.user_id, lang_override=locale)
    new_t = translator(locale)
    asked.reply(b.escape(new_t(USER_LANG_SET, language=modal.language_name(new_t, locale))))


def _admin(asked: Asked) -> None:
    who, t, store = asked.who, asked.t, asked.deps.store
    verb = asked.args[0].lower() if asked.args else "list"
    if verb == "list":
        admins = list(dict.fromkeys([*([who.workspace.installer_user_id] if who.workspace.installer_user_id else []),
                                     *store.admins(who.workspace.id)]))
        if admins:
            text = t("Admins added in tautan: {users}. Slack workspace admins and owners are admins too.",
                     users=t.list(f"<@{u}>" for u in admins))
        else:
            text = t("No one has been added as an admin yet. Slack workspace admins and owners are admins.")
        asked.reply(text)
        return
    if verb not in ("add", "remove"):
        asked.reply(message=help_message(t, unknown=f"admin {verb}"))
        return
    who.require_admin()
    users = list(dict.fromkeys(_MENTION.findall(" ".join(asked.args[1:]))))
    if not users:
        raise InvalidInput(N_("Mention the people, for example /connect admin add @ana."))
    for user_id in users:
        store.save_user(who.workspace.id, user_id, granted_admin=verb == "add", granted_by=who.user_id)
    mentions = t.list(f"<@{u}>" for u in users)
    if verb == "add":
        asked.reply(t("{users} may now invite suppliers and answer requests.", users=mentions))
    else:
        asked.reply(t("{users} may no longer invite suppliers or answer requests, unless they are Slack workspace "
                      "admins or owners.", users=mentions))


def _help(asked: Asked) -> None:
    asked.reply(message=help_message(asked.t))


SUBCOMMANDS: dict[str, Callable[[Asked], None]] = {
    "": _open_form,
    "invite": _invite,
    "list": _list,
    "show": _show,
    "requests": _requests,
    "resend": _resend,
    "cancel": _cancel,
    "channel": _channel,
    "lang": _lang,
    "admin": _admin,
    "help": _help,
}
