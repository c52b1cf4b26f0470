"""Slack surface: the buttons and menus of our messages.

Paging (``page_next`` / ``page_prev``) redraws the list in place. A row's menu (``row_menu``)
resends or cancels an invitation, disconnects, or shows the history (of a connection, or of a
supplier with all its connections); a row whose menu would only say History has a History button
instead (``partner_history``, ``connection_history``). ``request_approve`` / ``request_deny``
answer a supplier's request and redraw the message with who answered; a second press (by anyone)
changes nothing and says so.

Every id in a button's value is checked again here: values come from Slack, but a request can
be forged, so the same scoping as the command applies.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from tautan.bot import blocks as b
from tautan.bot import messages as m
from tautan.bot.context import Deps, Who
from tautan.bot.messages import (
    list_message,
    owned_connection,
    owned_invitation,
    parse_id,
    publish_home,
    requests_message,
)
from tautan.core import services
from tautan.core.errors import InvalidInput, InvalidTransition
from tautan.core.i18n import N_, Translator, translator
from tautan.core.transitions import Side

APPROVED_BY = N_("Approved by {user}.")
DENIED_BY = N_("Denied by {user}.")


class Answer:
    """Where the answer to a press goes. A message with a ``response_url`` (our ephemeral lists, a
    channel notice) is answered through it; a button on the App Home has none, so the answer goes
    to the user's direct messages with the app."""

    def __init__(self, respond: Respond, client: WebClient, who: Who, body: dict[str, Any]) -> None:
        self.respond, self.client, self.who, self.body = respond, client, who, body

    @property
    def from_home(self) -> bool:
        return (self.body.get("container") or {}).get("type") == "view" or not self.body.get("response_url")

    @property
    def channel_message(self) -> tuple[str, dict[str, Any]] | None:
        """The channel and the message, when the button is on a message everyone in a channel sees."""
        container = self.body.get("container") or {}
        message = self.body.get("message") or {}
        channel = (self.body.get("channel") or {}).get("id") or container.get("channel_id")
        if container.get("type") == "message" and not container.get("is_ephemeral") and channel and message.get("ts"):
            return channel, message
        return None

    def new(self, text: str = "", *, message: dict[str, Any] | None = None) -> None:
        """A new message for the one who pressed; the pressed one stays as it is."""
        content = message or {"text": text}
        if self.from_home:
            self.client.chat_postMessage(channel=self.who.user_id, **content)
        else:
            self.respond(**content, response_type="ephemeral", replace_original=False)

    def replace(self, message: dict[str, Any]) -> None:
        """The pressed (ephemeral) message, redrawn."""
        self.respond(**message, response_type="ephemeral", replace_original=True)


def register(app: App, deps: Deps) -> None:
    """Attach this surface's listeners to the app."""

    def page(ack: Ack, action: dict[str, Any], respond: Respond, context: BoltContext, body: dict[str, Any]) -> None:
        ack()
        if not body.get("response_url"):  # only our list messages page this way
            return
        who: Who = context["who"]
        wanted = b.read_page_value(action.get("value") or "")
        respond(**list_message(deps, who, **wanted), response_type="ephemeral", replace_original=True)

    app.action(b.PAGE_NEXT)(page)
    app.action(b.PAGE_PREV)(page)

    @app.action(b.ROW_MENU)
    def row_menu(ack: Ack, action: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext,
                 body: dict[str, Any]) -> None:
        ack()
        verb, _, ident = ((action.get("selected_option") or {}).get("value") or "").partition(":")
        _row_action(deps, Answer(respond, client, context["who"], body), verb, ident)

    def answer(approve: bool) -> Any:
        def listener(ack: Ack, action: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext,
                     body: dict[str, Any]) -> None:
            ack()
            _answer_request(deps, Answer(respond, client, context["who"], body), action, approve=approve)

        return listener

    def history(verb: str) -> Any:
        def listener(ack: Ack, action: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext,
                     body: dict[str, Any]) -> None:
            ack()
            _row_action(deps, Answer(respond, client, context["who"], body), verb, action.get("value") or "")

        return listener

    app.action(b.PARTNER_HISTORY)(history("partner"))
    app.action(b.CONNECTION_HISTORY)(history("history"))

    app.action(b.REQUEST_APPROVE)(answer(approve=True))
    app.action(b.REQUEST_DENY)(answer(approve=False))

    @app.action(b.REQUEST_DENY_REASON)
    def deny_with_reason(ack: Ack, action: dict[str, Any], respond: Respond, client: WebClient,
                         context: BoltContext, body: dict[str, Any]) -> None:
        ack()
        who: Who = context["who"]
        who.require_admin()
        owned = owned_connection(deps, who, parse_id(action.get("value") or ""))
        t = who.t
        text = t("Deny the request of {supplier} to connect for {type}? {supplier} is told, with your reason.",
                 supplier=f"*{b.escape(owned.supplier)}*", type=b.type_label(t, owned.type))
        _confirm(Answer(respond, client, who, body), t, "deny", owned.id, title=t("Deny the request"), text=text,
                 reason=True)

    @app.view(CONFIRM_CALLBACK_ID)
    def confirm_submitted(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        confirmed(deps, context["who"], client, view)


def _row_action(deps: Deps, answer: Answer, verb: str, ident: str) -> None:
    who = answer.who
    t = who.t
    if verb == "partner":  # a supplier's row of the list: all its connections, each with its menu, and the history
        message = m.partner_message_by_id(deps, who, parse_id(ident))
        if not m.open_in_modal(answer.client, answer.body, t, t("History"), message):
            answer.new(message=message)
    elif verb == "history":
        connection = owned_connection(deps, who, parse_id(ident))
        events = services.history(deps.uow(), connection_id=connection.id)
        message = b.message(b.escape(connection.supplier), [
            b.connection_row(t, connection, menu=False, show_customer=connection.customer_id != who.company_id),
            *b.history_blocks(t, events, team_id=who.workspace.team_id)])
        if not m.open_in_modal(answer.client, answer.body, t, t("History"), message):
            answer.new(message=message)
    elif verb == "resend":
        who.require_admin()
        invitation = owned_invitation(deps, who, parse_id(ident))
        view = services.resend(deps.uow(), invitation_id=invitation.id, actor=who.actor, via="slack")
        answer.new(b.escape(t("Invitation {id} to {supplier} will be sent again.", id=view.id,
                              supplier=view.supplier)))
    elif verb == "cancel":
        who.require_admin()
        invitation = owned_invitation(deps, who, parse_id(ident))
        if invitation.status != "pending":  # nothing to confirm: the engine says where it stands
            services.cancel(deps.uow(), invitation_id=invitation.id, actor=who.actor, via="slack")
        text = t("Cancel the invitation to {supplier} ({email})? Its links and its reply address stop working.",
                 supplier=b.escape(invitation.supplier), email=b.escape(invitation.email))
        _confirm(answer, t, verb, invitation.id, title=t("Cancel the invitation"), text=text, reason=False)
    elif verb == "disconnect":
        who.require_admin()
        owned = owned_connection(deps, who, parse_id(ident))
        text = t("Disconnect {supplier} for {type}? No more documents of this type are exchanged, and {supplier} "
                 "is told.", supplier=f"*{b.escape(owned.supplier)}*", type=b.type_label(t, owned.type))
        _confirm(answer, t, verb, owned.id, title=t("Disconnect"), text=text, reason=True)
    else:
        raise InvalidInput(N_("This button is not known. Please run the command again."))


CONFIRM_CALLBACK_ID = "confirm_row"
REASON_BLOCK = "reason"


def _confirm(answer: Answer, t: Translator, verb: str, ident: int, *, title: str, text: str, reason: bool) -> None:
    """A form that names the partner and the consequence, with an optional reason; the change is
    made when it is submitted (``confirmed``)."""
    blocks = [b.section(text)]
    if reason:
        blocks.append(b.input_block(REASON_BLOCK, t("Reason (optional)"),
                                    b.text_input(m.VALUE, multiline=True, max_length=services.MAX_MESSAGE_LENGTH),
                                    optional=True, hint=t("Kept in the history and passed on to the supplier.")))
    metadata = json.dumps({"verb": verb, "id": ident, "response_url": answer.body.get("response_url") or ""},
                          separators=(",", ":"))
    view = b.modal(CONFIRM_CALLBACK_ID, title, blocks, submit=title, close=t("Back"), private_metadata=metadata)
    answer.client.views_open(trigger_id=answer.body["trigger_id"], view=view)


def confirmed(deps: Deps, who: Who, client: WebClient, view: dict[str, Any]) -> None:
    """The confirmation form was submitted: cancel or disconnect, and say so where it was asked."""
    t = who.t
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        metadata = {}
    verb, ident = metadata.get("verb"), metadata.get("id")
    reason = ((view.get("state", {}).get("values", {}).get(REASON_BLOCK) or {}).get(m.VALUE) or {}).get("value")
    who.require_admin()
    if verb == "cancel":
        invitation = owned_invitation(deps, who, parse_id(str(ident)))
        done = services.cancel(deps.uow(), invitation_id=invitation.id, actor=who.actor, via="slack")
        text = b.escape(t("Invitation {id} to {supplier} is cancelled.", id=done.id, supplier=done.supplier))
    elif verb == "disconnect":
        owned = owned_connection(deps, who, parse_id(str(ident)))
        connection = services.disconnect(deps.uow(), connection_id=owned.id, side=Side.CUSTOMER, actor=who.actor,
                                         via="slack", reason=reason)
        text = b.escape(t("{supplier} and {customer} are no longer connected for {type}.",
                          supplier=connection.supplier, customer=connection.customer,
                          type=b.type_label(t, connection.type)))
    elif verb == "deny":
        owned = owned_connection(deps, who, parse_id(str(ident)))
        try:
            denied = services.deny(deps.uow(), connection_id=owned.id, actor=who.actor, via="slack", reason=reason)
        except InvalidTransition:  # another admin was quicker
            current = owned_connection(deps, who, owned.id)
            text = b.escape(t("This request was already answered; it is now {status}.",
                              status=b.status_label(t, current.status)))
        else:
            text = t("{user} denied the request of {supplier} to connect for {type}.", user=f"<@{who.user_id}>",
                     supplier=f"*{b.escape(denied.supplier)}*", type=b.type_label(t, denied.type))
    else:
        raise InvalidInput(N_("This button is not known. Please run the command again."))
    url = metadata.get("response_url") or ""
    if url:
        WebhookClient(url).send(text=text, response_type="ephemeral", replace_original=False)
    else:
        client.chat_postMessage(channel=who.user_id, text=text)


def _answer_request(deps: Deps, answer: Answer, action: dict[str, Any], *, approve: bool) -> None:
    """Approve or deny a supplier's request from wherever its buttons are: our ephemeral list (redrawn
    with who answered), a channel notice (updated for everyone, in the channel's language) or the
    App Home (published again)."""
    who = answer.who
    t = who.t
    who.require_admin()
    connection = owned_connection(deps, who, parse_id(action.get("value") or ""))
    service = services.approve if approve else services.deny
    try:
        view = service(deps.uow(), connection_id=connection.id, actor=who.actor, via="slack")
    except InvalidTransition:
        # Pressed twice, or another admin was quicker: nothing changes, and we say where it stands.
        current = owned_connection(deps, who, connection.id)
        if answer.from_home:
            _publish_home(deps, answer)
        else:
            answer.new(b.escape(t("This request was already answered; it is now {status}.",
                                  status=b.status_label(t, current.status))))
        return
    mention = f"<@{who.user_id}>"
    if answer.from_home:
        _publish_home(deps, answer)
    elif (shared := answer.channel_message) is not None:
        channel, message = shared
        done = translator(who.workspace.locale)(APPROVED_BY if approve else DENIED_BY, user=mention)
        pressed = action.get("block_id")
        blocks = [block for block in message.get("blocks") or [] if block.get("block_id") != pressed]
        answer.client.chat_update(channel=channel, ts=message["ts"], text=message.get("text") or "",
                                  blocks=[*blocks, b.context(done)])
    else:
        done = t(APPROVED_BY if approve else DENIED_BY, user=mention)
        answer.replace(requests_message(deps, who, handled=view, handled_text=done))


def _publish_home(deps: Deps, answer: Answer) -> None:
    publish_home(answer.client, answer.who, deps)
