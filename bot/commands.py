"""Slack surface: the ``/connect`` command and its subcommands.

Every answer is an ephemeral message through the command's ``response_url`` (``respond``), in the
asker's language. Everything is scoped to the workspace's company and its units: an id that
belongs to another company is answered exactly like an id that does not exist.

``/connect`` alone or ``/connect invite`` opens the invite form; ``/connect help`` lists the rest.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import segno
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tautan.bot import blocks as b
from tautan.bot import messages as m
from tautan.bot.context import Deps, Who, language
from tautan.core import services
from tautan.core.errors import InvalidInput
from tautan.core.i18n import N_, SUPPORTED_LOCALES, Translator, normalize_locale, translator
from tautan.core.model import DOCUMENT_TYPES, search_key
from tautan.core.views import DOCUMENT_TYPE_LABELS, ConnectionView

log = logging.getLogger(__name__)

COMMAND = "/connect"

# Said in a language other than the asker's (the channel's, or the one just chosen): marked here
# so that they are extracted for the catalogs.
COMPANY_LANG_SET = N_("Notices in the channel will now be in {language}.")
USER_LANG_SET = N_("You will now see Tautan in {language}.")
USER_LANG_RESET = N_("You will see Tautan in the language of your Slack settings.")


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
        who: Who = context["who"]
        text = m.unwrap_mailto(command.get("text") or "")
        name, *args = text.split() or [""]
        asked = Asked(deps=deps, who=who, command=command, respond=respond, client=client, args=args)
        handler = SUBCOMMANDS.get(name.lower())
        if handler is None:
            asked.reply(message=m.help_message(who.t, unknown=name))
        else:
            handler(asked)


def _open_form(asked: Asked) -> None:
    m.open_invite_modal(asked.deps, asked.who, asked.client, trigger_id=asked.command.get("trigger_id", ""))


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
            if code is None and (not emails or "." in part) and "," not in arg:
                # Not a type, and no address was given (or it looks like a domain): an address mistyped.
                services.normalize_email(part)  # says "… is not a valid email address."
            if code is None:
                raise InvalidInput(N_("Unknown document type {type}. Known types: {known}."), type=part[:50],
                                   known=list(DOCUMENT_TYPES))
            if code not in types:
                types.append(code)
    if not emails:
        raise InvalidInput(N_("Give an email address, for example /connect invite ana@pt-maju.co.id invoice, or type "
                              "/connect invite alone to open the form."))
    emails = list(dict.fromkeys(e.lower() for e in emails))
    if len(emails) > m.MAX_EMAILS:
        raise InvalidInput(N_("At most {max} addresses at a time; this list has {count}."), max=m.MAX_EMAILS,
                           count=len(emails))
    # Each address is checked by the service: a bad one is reported in the summary, the others go out.
    outcomes = m.invite_all(asked.deps, asked.who, emails, types=types or m.DEFAULT_TYPES)
    asked.reply(message=m.summary_message(t, outcomes))


def _list(asked: Asked) -> None:
    statuses, types, partner = m.parse_filters(asked.t, asked.args)
    asked.reply(message=m.list_message(asked.deps, asked.who, statuses=statuses, types=types, partner=partner))


def _show(asked: Asked) -> None:
    if not asked.args:
        if asked.who.is_admin and asked.command.get("trigger_id"):  # pick a supplier by typing part of its name
            asked.client.views_open(trigger_id=asked.command["trigger_id"], view=m.show_view(asked.t))
            return
        raise InvalidInput(N_("Say what to show, for example /connect show 12 or /connect show maju."))
    text = " ".join(asked.args)
    t = asked.t
    if len(asked.args) == 1 and text.lstrip("#").isdigit():
        view = m.owned_invitation(asked.deps, asked.who, m.parse_id(text))
        message, title = m.invitation_message(asked.deps, asked.who, view), t("Invitation {id}", id=view.id)
    else:
        message = m.partner_message(asked.deps, asked.who, text)
        title = t("History")  # the partner's name heads the first block
        if not message["blocks"]:  # no partner, or several: a short answer says so
            asked.reply(message=message)
            return
    if not m.open_in_modal(asked.client, asked.command, t, title, message):
        asked.reply(message=message)


def _requests(asked: Asked) -> None:
    asked.reply(message=m.requests_message(asked.deps, asked.who))


def _invitation_id(asked: Asked, example: str) -> int:
    if len(asked.args) != 1:
        raise InvalidInput(N_("Say which invitation, for example {example}."), example=example)
    return m.parse_id(asked.args[0])


def _resend(asked: Asked) -> None:
    asked.who.require_admin()
    invitation_id = _invitation_id(asked, "/connect resend 12")
    m.owned_invitation(asked.deps, asked.who, invitation_id)
    view = services.resend(asked.deps.uow(), invitation_id=invitation_id, actor=asked.who.actor, via="slack")
    asked.reply(b.escape(asked.t("Invitation {id} to {supplier} will be sent again.", id=view.id,
                                 supplier=view.supplier)))


def _cancel(asked: Asked) -> None:
    asked.who.require_admin()
    invitation_id = _invitation_id(asked, "/connect cancel 12")
    m.owned_invitation(asked.deps, asked.who, invitation_id)
    view = services.cancel(asked.deps.uow(), invitation_id=invitation_id, actor=asked.who.actor, via="slack")
    asked.reply(b.escape(asked.t("Invitation {id} to {supplier} is cancelled.", id=view.id, supplier=view.supplier)))


def _channel(asked: Asked) -> None:
    who = asked.who
    who.require_admin()
    channel_id = asked.command.get("channel_id") or ""
    if not channel_id or channel_id.startswith("D"):
        raise InvalidInput(N_("Type this command in the channel that should receive the notices."))
    shared = _shared_with_others(asked.client, channel_id)
    problem = m.use_channel(asked.deps, who, asked.client, channel_id)
    if problem is not None:
        asked.reply(b.escape(problem))
    elif shared:
        company = services.get_company(asked.deps.uow(), who.company_id)
        asked.reply(b.escape(asked.t(
            "This channel is shared with another organisation: its people will read the notices of {company} "
            "too. Only members of your workspace can answer them.", company=company.name)))


def _shared_with_others(client: WebClient, channel_id: str) -> bool:
    """A Slack Connect channel (shared with another organisation)."""
    try:
        channel = client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError as error:
        log.info("slack: conversations.info failed: %s", error.response.get("error"))
        return False
    return bool(channel.get("is_ext_shared") or channel.get("is_pending_ext_shared"))


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
                                   language=m.language_name(t, who.workspace.locale))))
            return
        who.require_admin()
        locale = _locale(args[1])
        store.set_locale(who.workspace.id, locale)
        services.set_company_locale(asked.deps.uow(), company_id=who.company_id, locale=locale, actor=who.actor,
                                    via="slack")
        new_t = translator(locale)
        asked.reply(b.escape(new_t(COMPANY_LANG_SET, language=m.language_name(new_t, locale))))
        return
    if not args:
        user = store.user(who.workspace.id, who.user_id)
        if user is not None and user.lang_override:
            text = t("You see Tautan in {language}. Change it with /connect lang en or /connect lang id.",
                     language=m.language_name(t, who.locale))
        else:
            text = t("You see Tautan in {language}, the language of your Slack settings. Change it with "
                     "/connect lang en or /connect lang id.", language=m.language_name(t, who.locale))
        asked.reply(b.escape(text))
        return
    if args[0] in ("auto", "slack"):
        user = store.save_user(who.workspace.id, who.user_id, lang_override=None)
        new_t = translator(language(who.workspace, user))
        asked.reply(b.escape(new_t(USER_LANG_RESET)))
        return
    locale = _locale(args[0])
    store.save_user(who.workspace.id, who.user_id, lang_override=locale)
    new_t = translator(locale)
    asked.reply(b.escape(new_t(USER_LANG_SET, language=m.language_name(new_t, locale))))


def _admin(asked: Asked) -> None:
    who, t, store = asked.who, asked.t, asked.deps.store
    verb = asked.args[0].lower() if asked.args else "list"
    if verb == "list":
        admins = list(dict.fromkeys([*([who.workspace.installer_user_id] if who.workspace.installer_user_id else []),
                                     *store.admins(who.workspace.id)]))
        if admins:
            text = t("Admins added in Tautan: {users}. Slack workspace admins and owners are admins too.",
                     users=t.list(f"<@{u}>" for u in admins))
        else:
            text = t("No one has been added as an admin yet. Slack workspace admins and owners are admins.")
        asked.reply(text)
        return
    if verb not in ("add", "remove"):
        asked.reply(message=m.help_message(t, unknown=f"admin {verb}"))
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


EXPORT_HEADERS = (N_("Supplier"), N_("Customer"), N_("Document type"), N_("Status"), N_("Invitation"),
                  N_("Last change (UTC)"))


def export_csv(t: Translator, connections: Sequence[ConnectionView]) -> str:
    """The connections as CSV, headers and labels in the reader's language; a byte order mark so
    that spreadsheet programs read it as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([t(header) for header in EXPORT_HEADERS])
    for c in connections:
        writer.writerow([_cell(c.supplier), _cell(c.customer), b.type_label(t, c.type), b.status_label(t, c.status),
                         c.invitation_id or "", c.updated_at.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")])
    return "\ufeff" + out.getvalue()


def _cell(value: str) -> str:
    """A name as a spreadsheet shows it, never as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _export(asked: Asked) -> None:
    who, t = asked.who, asked.t
    connections: list[ConnectionView] = []
    page = 1
    while True:
        result = services.search(asked.deps.uow(), company=who.company_id, page=page, per_page=services.MAX_PER_PAGE)
        connections += result.items
        if not result.has_next:
            break
        page += 1
    channel_id = asked.command.get("channel_id") or who.user_id
    stamp = asked.deps.clock().strftime("%Y-%m-%d")
    try:
        asked.client.files_upload_v2(
            channel=channel_id, content=export_csv(t, connections).encode("utf-8"),
            filename=f"tautan-connections-{stamp}.csv", title=t("Connections of {company}", company=who.workspace.name),
            initial_comment=t.ngettext("{n} connection, as of {date}.", "{n} connections, as of {date}.",
                                       len(connections), date=t.date(asked.deps.clock(), format="medium")))
    except SlackApiError as error:
        log.info("slack: could not upload the export: %s", error.response.get("error"))
        asked.reply(b.escape(t("I cannot share a file in this conversation. Add the app to the channel, or type "
                               "/connect export in the app's Messages tab.")))


def _link(asked: Asked) -> None:
    """The join page and request address, then its QR code as an image to print or put online."""
    unit = " ".join(asked.args) or None
    asked.reply(message=m.join_message(asked.deps, asked.who, unit))
    url, slug = m.join_url(asked.deps, asked.who, unit)
    picture = io.BytesIO()
    segno.make(url, error="m").save(picture, kind="png", scale=8, border=4)
    t = asked.t
    try:
        asked.client.files_upload_v2(
            channel=asked.command.get("channel_id") or asked.who.user_id, content=picture.getvalue(),
            filename=f"{slug}-join.png", title=t("QR code of the join page"),
            initial_comment=t("Scanning it opens {url}.", url=url))
    except SlackApiError as error:
        log.info("slack: could not upload the QR code: %s", error.response.get("error"))
        asked.reply(b.escape(t("I cannot share a file in this conversation. Add the app to the channel, or type "
                               "/connect link in the app's Messages tab.")))


def _profile(asked: Asked) -> None:
    m.open_profile(asked.deps, asked.who, asked.client, trigger_id=asked.command.get("trigger_id", ""))


def _help(asked: Asked) -> None:
    asked.reply(message=m.help_message(asked.t))


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
    "export": _export,
    "link": _link,
    "profile": _profile,
    "help": _help,
}
