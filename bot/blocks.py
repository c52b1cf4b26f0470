"""Block Kit, built by small functions that return plain dicts.

Everything a user typed (supplier names, emails, messages) goes through ``escape`` before it is
put in mrkdwn, so a supplier called ``<!channel>`` pings nobody. Texts arrive translated: the
builders that need words take the reader's ``Translator``. The builders for connection rows and
history are shared by the slash command, the buttons and the App Home.

Limits kept here (docs.slack.dev, Block Kit reference): section text 3000, header 150, option
text 75, option value 150, button text 75, button value 2000, overflow options 5, context
elements 10, modal title/submit/close 24.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from tautan.core.i18n import Translator
from tautan.core.model import InvitationStatus, Status
from tautan.core.transitions import STATUS_LABELS
from tautan.core.views import (
    DOCUMENT_TYPE_LABELS,
    EVENT_LABELS,
    INVITATION_STATUS_LABELS,
    VIA_LABELS,
    ConnectionView,
    EventView,
    PartnerView,
)

Block = dict[str, Any]

SECTION_MAX = 3000
HEADER_MAX = 150
OPTION_TEXT_MAX = 75
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
OVERFLOW_MAX = 5
CONTEXT_MAX = 10
MODAL_TEXT_MAX = 24
MESSAGE_BLOCKS_MAX = 50

# Action ids the buttons and menus of these blocks carry; bot/actions.py listens for them.
PAGE_NEXT, PAGE_PREV, ROW_MENU = "page_next", "page_prev", "row_menu"
# The History button of a supplier's row, and of a connection's, when History is all a menu would offer.
PARTNER_HISTORY, CONNECTION_HISTORY = "partner_history", "connection_history"
REQUEST_APPROVE, REQUEST_DENY = "request_approve", "request_deny"
REQUEST_DENY_REASON = "request_deny_reason"  # deny, saying why, in a form


# --- text ------------------------------------------------------------------------------------

def escape(text: str) -> str:
    """Make user text inert in mrkdwn: exactly ``&``, ``<`` and ``>`` are replaced (Slack's rule),
    so ``<!channel>``, ``<@U1>`` or ``<https://x|y>`` are shown, never acted on."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


def cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, with an ellipsis when shortened; never ends inside an
    ``&amp;``-style entity that ``escape`` produced."""
    if len(text) <= limit:
        return text
    return _PARTIAL_ENTITY.sub("", text[: limit - 1]) + "…"


def plain(text: str, limit: int | None = None) -> dict[str, Any]:
    return {"type": "plain_text", "text": cut(text, limit) if limit else text, "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


# --- blocks ----------------------------------------------------------------------------------

def section(text: str, *, accessory: dict[str, Any] | None = None, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(cut(text, SECTION_MAX))}
    if accessory:
        block["accessory"] = accessory
    if block_id:
        block["block_id"] = block_id
    return block


def sections(lines: Iterable[str], limit: int = SECTION_MAX) -> list[Block]:
    """Lines of mrkdwn in as few sections as the 3000-character limit allows."""
    blocks: list[Block] = []
    chunk: list[str] = []
    size = 0
    for line in lines:
        line = cut(line, limit)
        if chunk and size + 1 + len(line) > limit:
            blocks.append(section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + (1 if size else 0)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return blocks


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_MAX)}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(cut(t, SECTION_MAX)) for t in texts[:CONTEXT_MAX]]}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str, *, style: str | None = None,
           confirm: dict[str, Any] | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "text": plain(text, BUTTON_TEXT_MAX), "action_id": action_id,
                               "value": value[:BUTTON_VALUE_MAX]}
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def confirm(title: str, text: str, *, yes: str, no: str, danger: bool = False) -> dict[str, Any]:
    """Slack's "are you sure?" dialog of a button (``text`` is mrkdwn)."""
    dialog: dict[str, Any] = {"title": plain(title, 100), "text": mrkdwn(cut(text, 300)),
                              "confirm": plain(yes, 30), "deny": plain(no, 30)}
    if danger:
        dialog["style"] = "danger"
    return dialog


def actions(*elements: dict[str, Any], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text, OPTION_TEXT_MAX), "value": value[:150]}


def overflow(action_id: str, options: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "overflow", "action_id": action_id, "options": list(options[:OVERFLOW_MAX])}


def static_select(action_id: str, options: Sequence[dict[str, Any]], *, initial: dict[str, Any] | None = None,
                  placeholder: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select", "action_id": action_id, "options": list(options[:100])}
    if initial is not None:
        element["initial_option"] = initial
    if placeholder:
        element["placeholder"] = plain(placeholder, 150)
    return element


def external_select(action_id: str, *, placeholder: str, min_query_length: int = 1) -> dict[str, Any]:
    """A menu whose options Slack asks us for as the person types (an ``options`` listener)."""
    return {"type": "external_select", "action_id": action_id, "placeholder": plain(placeholder, 150),
            "min_query_length": min_query_length}


def checkboxes(action_id: str, options: Sequence[dict[str, Any]],
               initial: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "checkboxes", "action_id": action_id, "options": list(options[:10])}
    if initial:
        element["initial_options"] = list(initial)
    return element


def text_input(action_id: str, *, multiline: bool = False, max_length: int | None = None,
               placeholder: str | None = None, initial: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": action_id, "multiline": multiline}
    if initial:
        element["initial_value"] = initial[:max_length] if max_length else initial
    if max_length:
        element["max_length"] = max_length
    if placeholder:
        element["placeholder"] = plain(placeholder, 150)
    return element


def input_block(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False,
                hint: str | None = None) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": plain(label, 2000), "element": element,
                    "optional": optional}
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def modal(callback_id: str, title: str, blocks: Sequence[Block], *, submit: str, close: str,
          private_metadata: str = "") -> dict[str, Any]:
    return {"type": "modal", "callback_id": callback_id, "title": plain(title, MODAL_TEXT_MAX),
            "submit": plain(submit, MODAL_TEXT_MAX), "close": plain(close, MODAL_TEXT_MAX),
            "private_metadata": private_metadata[:3000], "blocks": list(blocks[:100])}


def message(text: str, blocks: Sequence[Block]) -> dict[str, Any]:
    """A message body: the fallback text (notifications, screen readers) and at most 50 blocks."""
    return {"text": cut(text, SECTION_MAX), "blocks": list(blocks[:MESSAGE_BLOCKS_MAX])}


# --- labels ----------------------------------------------------------------------------------

def type_label(t: Translator, code: str) -> str:
    label = DOCUMENT_TYPE_LABELS.get(code)
    return t(label.message_id) if label else code


def types_label(t: Translator, codes: Iterable[str]) -> str:
    return t.list(type_label(t, c) for c in codes)


def status_label(t: Translator, status: str | None) -> str:
    try:
        return t(STATUS_LABELS[Status(status) if status else None].message_id)
    except ValueError:
        return str(status)


def invitation_status_label(t: Translator, status: str) -> str:
    try:
        return t(INVITATION_STATUS_LABELS[InvitationStatus(status)].message_id)
    except ValueError:
        return status


def event_label(t: Translator, event: EventView) -> str:
    label = EVENT_LABELS.get(event.kind)
    what = t(label.message_id) if label else event.kind
    kind_type = event.details.get("type")
    if kind_type:
        what = t("{event} ({type})", event=what, type=type_label(t, str(kind_type)))
    return what


def actor_text(actor: str, *, team_id: str | None = None) -> str:
    """Who did something, as mrkdwn: a mention for someone of this workspace, else the escaped
    address or name (``email:ana@…`` → ``ana@…``)."""
    kind, _, who = actor.partition(":")
    if kind == "slack" and who:
        team, _, user = who.partition("/")
        if team_id and team == team_id and re.fullmatch(r"[UW][A-Z0-9]+", user):
            return f"<@{user}>"
        return escape(user or who)
    if who:
        return escape(who)
    return escape(actor)


def when(t: Translator, value: Any) -> str:
    """A moment as Slack's date token (mrkdwn): each reader sees it in their own time zone and
    their Slack language; clients that cannot show tokens show the fallback, formatted by Babel
    for the reader's language (in UTC, and it says so)."""
    fallback = escape(f"{t.datetime(value, format='short')} UTC").replace("|", "/")
    try:
        stamp = int(value.timestamp())
    except (AttributeError, OverflowError, ValueError):
        return fallback
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{fallback}>"


# --- connection rows, history, paging --------------------------------------------------------

def row_menu(t: Translator, c: ConnectionView, *, admin: bool = True) -> dict[str, Any]:
    """The overflow menu of a connection row: what can be done from where it stands, and History;
    a History button when that is all."""
    options = []
    if admin and c.invitation_id is not None and c.status in (Status.INVITED, Status.EXPIRED):
        options.append(option(t("Send the invitation again"), f"resend:{c.invitation_id}"))
    if admin and c.invitation_id is not None and c.status == Status.INVITED:
        options.append(option(t("Cancel the invitation"), f"cancel:{c.invitation_id}"))
    if admin and c.status == Status.CONNECTED:
        options.append(option(t("Disconnect"), f"disconnect:{c.id}"))
    if not options:  # a menu of one is a button
        return button(t("History"), CONNECTION_HISTORY, str(c.id))
    options.append(option(t("History"), f"history:{c.id}"))
    return overflow(ROW_MENU, options)


def connection_row(t: Translator, c: ConnectionView, *, menu: bool = True, admin: bool = True,
                   show_customer: bool = False) -> Block:
    """One connection as a section: partner, document type, status, last change, and a menu."""
    lines = [f"*{escape(c.supplier)}*"]
    if show_customer:
        lines.append(escape(c.customer))
    lines.append(t("{type}: {status} · last change {date}", type=type_label(t, c.type),
                   status=status_label(t, c.status), date=when(t, c.updated_at)))
    return section("\n".join(lines), accessory=row_menu(t, c, admin=admin) if menu else None,
                   block_id=f"connection:{c.id}")


def partner_menu(t: Translator, partner: PartnerView, *, admin: bool = True,
                 show_customer: bool = False) -> dict[str, Any]:
    """What a partner row offers: an overflow menu of what can be done from where its connections
    stand (at most four of those) and History; a plain History button when that is all there is."""
    connections = partner.connections
    several = len({c.invitation_id for c in connections if c.invitation_id is not None
                   and c.status in (Status.INVITED, Status.EXPIRED)}) > 1
    options: list[dict[str, Any]] = []
    if admin:
        seen: set[str] = set()
        for c in connections:
            choices = []
            if c.invitation_id is not None and c.status in (Status.INVITED, Status.EXPIRED):
                choices.append((t("Send invitation {id} again", id=c.invitation_id) if several
                                else t("Send the invitation again"), f"resend:{c.invitation_id}"))
            if c.invitation_id is not None and c.status == Status.INVITED:
                choices.append((t("Cancel invitation {id}", id=c.invitation_id) if several
                                else t("Cancel the invitation"), f"cancel:{c.invitation_id}"))
            if c.status == Status.CONNECTED:
                label = (t("Disconnect {type} ({customer})", type=type_label(t, c.type), customer=c.customer)
                         if show_customer else t("Disconnect {type}", type=type_label(t, c.type)))
                choices.append((label, f"disconnect:{c.id}"))
            for text, value in choices:
                if value not in seen:
                    seen.add(value)
                    options.append(option(text, value))
    history = t("History")
    if not options:
        return button(history, PARTNER_HISTORY, str(partner.supplier_id))
    # The rest stays one step away: History shows every connection with its own menu.
    return overflow(ROW_MENU, [*options[:OVERFLOW_MAX - 1], option(history, f"partner:{partner.supplier_id}")])


def partner_row(t: Translator, partner: PartnerView, *, admin: bool = True, show_customer: bool = False) -> Block:
    """One supplier as a section: its name, each document type with its status (per customer when
    the company has units), the last change, and its menu or History button."""
    lines = [f"*{escape(partner.supplier)}*"]
    by_customer: dict[int, list[ConnectionView]] = {}
    for c in partner.connections:
        by_customer.setdefault(c.customer_id, []).append(c)
    for found in by_customer.values():
        types = " · ".join(t("{type}: {status}", type=type_label(t, c.type), status=status_label(t, c.status))
                           for c in found)
        lines.append(t("{customer}: {types}", customer=f"_{escape(found[0].customer)}_", types=types)
                     if show_customer else types)
    lines.append(t("Last change {date}", date=when(t, partner.last_change)))
    return section("\n".join(lines), accessory=partner_menu(t, partner, admin=admin, show_customer=show_customer),
                   block_id=f"partner:{partner.supplier_id}")


def history_line(t: Translator, event: EventView, *, team_id: str | None = None) -> str:
    via = VIA_LABELS.get(event.via)
    return t("{at} · {event} · by {actor} via {via}", at=when(t, event.at), event=escape(event_label(t, event)),
             actor=actor_text(event.actor, team_id=team_id), via=t(via) if via else escape(event.via))


def history_blocks(t: Translator, events: Sequence[EventView], *, team_id: str | None = None,
                   limit: int = 25) -> list[Block]:
    """The newest ``limit`` events, oldest first, under a title; says when older ones are left out."""
    shown = list(events)[-limit:]
    title = t("History:")
    blocks = [section(f"*{escape(title)}*")]
    if len(events) > len(shown):
        blocks.append(context(escape(t("Only the last {count} events are shown.", count=t.number(len(shown))))))
    blocks += sections(history_line(t, e, team_id=team_id) for e in shown)
    return blocks


def page_value(*, page: int, statuses: Sequence[str] = (), types: Sequence[str] = (), partner: str = "") -> str:
    """The filters and the page a paging button leads to, as compact JSON (≤ 2000 characters)."""
    data: dict[str, Any] = {"p": page}
    if statuses:
        data["s"] = list(statuses)
    if types:
        data["t"] = list(types)
    if partner:
        data["q"] = partner[:200]
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def read_page_value(value: str) -> dict[str, Any]:
    """The filters back from a paging button; anything malformed reads as the first page, unfiltered."""
    try:
        data = json.loads(value)
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}

    def strings(key: str) -> list[str]:
        items = data.get(key)
        return [str(i)[:32] for i in items[:10]] if isinstance(items, list) else []

    page = data.get("p")
    return {"page": page if isinstance(page, int) and 1 <= page <= 100_000 else 1,
            "statuses": strings("s"), "types": strings("t"), "partner": str(data.get("q") or "")[:200]}


def paging(t: Translator, *, page: int, pages: int, statuses: Sequence[str] = (), types: Sequence[str] = (),
           partner: str = "") -> Block | None:
    """Previous / Next buttons, or None when everything fits on one page."""
    buttons = []
    if page > 1:
        buttons.append(button(t("Previous"), PAGE_PREV, page_value(page=page - 1, statuses=statuses,
                                                                   types=types, partner=partner)))
    if page < pages:
        buttons.append(button(t("Next"), PAGE_NEXT, page_value(page=page + 1, statuses=statuses,
                                                               types=types, partner=partner)))
    return actions(*buttons, block_id="paging") if buttons else None


# --- supplier requests -----------------------------------------------------------------------

def deny_confirm(t: Translator, supplier: str, types: Sequence[str]) -> dict[str, Any]:
    return confirm(t("Deny the request?"),
                   t("{supplier} asked to connect for {types}. Denied, it is told so and is not connected.",
                     supplier=f"*{escape(supplier)}*", types=types_label(t, types)),
                   yes=t("Deny"), no=t("Back"), danger=True)


def request_rows(t: Translator, c: ConnectionView, *, handled: str | None = None, buttons: bool = True,
                 show_customer: bool = False) -> list[Block]:
    """A supplier's request: who asks, for what, since when; Approve and Deny (for admins), or once
    answered, who answered (``handled``, mrkdwn)."""
    supplier = "*" + escape(c.supplier) + "*"
    lines = [t("{supplier} asks to connect for {type}.", supplier=supplier, type=type_label(t, c.type))]
    if show_customer:
        lines.append(escape(c.customer))
    lines.append(t("Asked on {date}.", date=when(t, c.updated_at)))  # our text and a date token: nothing to escape
    blocks = [section("\n".join(lines), block_id=f"request:{c.id}")]
    if handled:
        blocks.append(context(handled))
    elif buttons:
        blocks.append(actions(button(t("Approve"), REQUEST_APPROVE, str(c.id), style="primary"),
                              button(t("Deny"), REQUEST_DENY, str(c.id), style="danger",
                                     confirm=deny_confirm(t, c.supplier, [c.type])),
                              button(t("Deny with a reason…"), REQUEST_DENY_REASON, str(c.id)),
                              block_id=f"request_actions:{c.id}"))
    return blocks
