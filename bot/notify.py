"""Channel notices: what the customer's team hears about in its Slack channel.

The engine queues one outbox row (channel ``slack``) per change worth telling: a supplier
accepted, declined, asked to connect or for a new invitation; an invitation bounced or expired.
``SlackNotifier`` is run by the worker: it claims those rows, reads the events they name, and
posts one message to the channel of every workspace bound to that customer, in the workspace's
language, with the buttons that can act on it (Approve/Deny a request, send an invitation again).

Delivery is at least once: a row is marked sent only after Slack said ``ok``. A rate limit
(HTTP 429) puts the row back until ``Retry-After`` has passed, and holds back the workspace's other
rows in the same round; server and network errors are retried with the outbox's backoff. When
the channel cannot be posted to (gone, archived, the bot removed), the workspace's admins are told
once by direct message (and on App Home), and the notice waits for a channel that works.
"""

from __future__ import annotations

import datetime as dt
import logging
import urllib.error
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tautan.bot import blocks as b
from tautan.bot import messages as m
from tautan.bot.context import Deps, Who
from tautan.bot.ports import Workspace
from tautan.core import outbox, queries, services
from tautan.core.errors import NotFound, TautanError
from tautan.core.i18n import N_, Translator, translator
from tautan.core.views import EVENT_LABELS, NoticeView

log = logging.getLogger(__name__)

CHANNEL = "slack"
RESEND_ACTION = "notice_resend"
ACTIONS_BLOCK = "notice_actions"

# Slack's answers worth trying again later; any other error (a channel that is gone, a revoked
# token, blocks Slack refuses) would fail the same way next time.
TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout",
                              "ratelimited", "team_added_to_org"})
CHANNEL_ERRORS = frozenset({"channel_not_found", "not_in_channel", "is_archived"})
# Slack's advice when it sends no Retry-After.
DEFAULT_RETRY_AFTER = 30
NOTICE_LEASE = dt.timedelta(minutes=5)
# A channel we cannot post in is tried again this often, until it works, another one is chosen, or
# the notice expires (the outbox gives up after some days).
CHANNEL_RETRY = dt.timedelta(minutes=15)


# --- text ------------------------------------------------------------------------------------

def request_buttons(t: Translator, connection_id: int, *, block_id: str, supplier: str,
                    code: str) -> dict[str, Any]:
    """Approve / Deny for one request; bot.actions listens for these."""
    return b.actions(b.button(t("Approve"), b.REQUEST_APPROVE, str(connection_id), style="primary"),
                     b.button(t("Deny"), b.REQUEST_DENY, str(connection_id), style="danger",
                              confirm=b.deny_confirm(t, supplier, [code])),
                     b.button(t("Deny with a reason…"), b.REQUEST_DENY_REASON, str(connection_id)), block_id=block_id)


# --- what a notice says ----------------------------------------------------------------------

def notice_message(notice: NoticeView, t: Translator) -> tuple[str, list[dict[str, Any]]]:
    """The fallback text and the blocks of a channel notice, in the reader's language."""
    supplier, types = f"*{b.escape(notice.supplier)}*", b.types_label(t, notice.types)
    email = b.escape(notice.email or "")
    kind = notice.kind
    if kind == "accepted":
        text = t("{supplier} accepted the invitation to connect for {types}.", supplier=supplier, types=types)
    elif kind == "declined":
        text = t("{supplier} declined the invitation to connect for {types}.", supplier=supplier, types=types)
    elif kind == "bounced":
        text = t("The invitation to {supplier} ({email}) could not be delivered.", supplier=supplier, email=email)
    elif kind == "expired" and notice.invitation_id is not None:
        text = t("The invitation to {supplier} for {types} expired without an answer.",
                 supplier=supplier, types=types)
    elif kind == "expired":
        text = t("The request of {supplier} to connect for {types} expired without an answer.",
                 supplier=supplier, types=types)
    elif kind == "requested":
        text = t("{supplier} asks to connect for {type}.", supplier=supplier, type=types)
    elif kind == "renewal_requested":
        text = t("{supplier} ({email}) asks for a new invitation to connect for {types}.",
                 supplier=supplier, email=email, types=types)
    elif kind == "withdrawn":
        text = t("{supplier} withdrew its request to connect for {types}.", supplier=supplier, types=types)
    elif kind == "disconnected":
        text = t("The connection with {supplier} for {types} has ended.", supplier=supplier, types=types)
    else:  # a kind added to the engine's list before this module learnt it: say it plainly
        label = EVENT_LABELS.get(kind)
        text = f"{supplier}: {t(label.message_id) if label else b.escape(kind)}"

    blocks: list[dict[str, Any]] = [b.section(text)]
    details = []
    if notice.unit:
        details.append(t("Unit: {unit}", unit=b.escape(notice.unit)))
    if kind == "bounced" and notice.reason:
        details.append(t("Reason: {reason}", reason=b.escape(notice.reason[:500])))
    elif notice.similar_to:
        details.append(t(":warning: A company named {company} already exists, and {email} does not belong to it: "
                         "this request comes from a new company.", company=f"*{b.escape(notice.similar_to)}*",
                         email=email))
    if notice.duplicate_of:
        details.append(t(":warning: Possible duplicate: its tax or PEPPOL id is also held by {company}.",
                         company=f"*{b.escape(notice.duplicate_of)}*"))
    if details:
        blocks.append(b.context(*details))

    if kind == "requested" and notice.connections:
        many = len(notice.connections) > 1
        for connection_id, code in notice.connections[:20]:  # 50 blocks per message
            if many:
                blocks.append(b.context(b.type_label(t, code)))
            blocks.append(request_buttons(t, connection_id, block_id=f"{ACTIONS_BLOCK}:{connection_id}",
                                          supplier=notice.supplier, code=code))
    elif kind in ("bounced", "expired", "renewal_requested") and notice.invitation_id is not None:
        again = b.confirm(t("Send the invitation again?"),
                          t("The invitation to {supplier} ({email}) is sent again, with the same links.",
                            supplier=supplier, email=email), yes=t("Send again"), no=t("Back"))
        blocks.append(b.actions(b.button(t("Send again"), RESEND_ACTION, str(notice.invitation_id), style="primary",
                                         confirm=again), block_id=ACTIONS_BLOCK))
    return b.cut(text, 3000), blocks[:b.MESSAGE_BLOCKS_MAX]


# --- delivery --------------------------------------------------------------------------------

@dataclass
class NotifyReport:
    claimed: int = 0
    sent: int = 0
    skipped: int = 0  # no channel to tell: nothing to do
    retrying: int = 0
    failed: int = 0

    def add(self, other: NotifyReport) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Outcome:
    sent: list[str] = field(default_factory=list)
    retry_at: dt.datetime | None = None  # a rate limit, or a channel that does not work: not before then
    retry_error: str = "ratelimited"
    retry: str | None = None  # a temporary failure: the outbox's backoff
    permanent: list[str] = field(default_factory=list)


class SlackNotifier:
    """Delivers the ``slack`` outbox rows with the Bolt app's Web API client and each
    workspace's bot token (the app's own in single-workspace mode, the installation's otherwise)."""

    def __init__(self, app: App, deps: Deps, *, batch: int = 50) -> None:
        self.app, self.deps, self.batch = app, deps, batch
        # Without the app client's rate-limit retries: a limited notice goes back to the outbox.
        self.client = WebClient(token=app.client.token, base_url=app.client.base_url)

    def deliver(self) -> NotifyReport:
        """Deliver one batch of due notices; ``claimed`` says whether there was anything to do."""
        report = NotifyReport()
        # A batch can wait out Slack's rate limits: a lease long enough that no other worker takes it meanwhile.
        items = outbox.claim(self.deps.uow(), channel=CHANNEL, limit=self.batch, lease=NOTICE_LEASE)
        report.claimed = len(items)
        held: dict[str, dt.datetime] = {}  # workspaces that are rate limited: until when
        tokens: dict[str, str | None] = {}
        for item in items:
            try:
                self._deliver(item, held, tokens, report)
            except TautanError as error:  # the database went away: the lease brings the row back
                log.warning("slack notice %s: %s", item.id, error.__class__.__name__)
            except Exception as error:  # one broken notice must not stop the others
                log.exception("slack notice %s: could not deliver %s", item.id, item.kind)
                self._failed(item.id, f"notify: {error.__class__.__name__}", permanent=False, report=report)
        return report

    def run(self) -> NotifyReport:
        """Deliver until nothing is due."""
        total = NotifyReport()
        while (report := self.deliver()).claimed:
            total.add(report)
        return total

    def _deliver(self, item: outbox.OutboxItem, held: dict[str, dt.datetime], tokens: dict[str, str | None],
                 report: NotifyReport) -> None:
        sent_before = set(item.payload.get("sent_to") or ())
        targets = [w for w in self.deps.store.workspaces_of(int(item.recipient))
                   if w.channel_id and w.team_id not in sent_before]
        notice = queries.notice(self.deps.uow(), list(item.payload.get("event_ids") or [])) if targets else None
        if notice is None:  # no channel chosen (or nothing left to tell): done, so rows don't pile up
            outbox.delivered(self.deps.uow(), outbox_id=item.id)
            report.skipped += 1
            return
        outcome = _Outcome()
        for workspace in targets:
            if workspace.team_id in held:
                outcome.retry_at = max(outcome.retry_at or held[workspace.team_id], held[workspace.team_id])
                continue
            if workspace.team_id not in tokens:
                tokens[workspace.team_id] = self._token(workspace)
            token = tokens[workspace.team_id]
            if not token:
                log.warning("slack notice %s: %s is not installed any more", item.id, workspace.team_id)
                outcome.permanent.append(f"{workspace.team_id}: not installed")
                continue
            text, blocks = notice_message(notice, translator(workspace.locale))
            try:
                self.client.chat_postMessage(token=token, channel=workspace.channel_id or "", text=text,
                                                 blocks=blocks, unfurl_links=False, unfurl_media=False)
            except SlackApiError as error:
                status = error.response.status_code
                code = str(error.response.get("error") or status)
                if status == 429 or code == "ratelimited":
                    until = self.deps.clock() + dt.timedelta(seconds=_retry_after(error))
                    held[workspace.team_id] = until
                    outcome.retry_at = max(outcome.retry_at or until, until)
                elif status >= 500 or code in TRANSIENT_ERRORS:
                    outcome.retry = f"{workspace.team_id}: {code}"
                elif code in CHANNEL_ERRORS and workspace.channel_id:
                    # The channel is gone or shut to us: the notice waits for a channel that works (or
                    # expires with the outbox), and the admins hear of it once.
                    log.warning("slack notice %s: cannot post in %s of %s: %s", item.id,
                                workspace.channel_id, workspace.team_id, code)
                    if self.deps.store.channel_broken(workspace.id, workspace.channel_id, code):
                        self._tell_admins(workspace, token, code)
                    until = self.deps.clock() + CHANNEL_RETRY
                    outcome.retry_at = max(outcome.retry_at or until, until)
                    outcome.retry_error = f"{workspace.team_id}: {code}"
                else:
                    log.warning("slack notice %s: %s refused it: %s", item.id, workspace.team_id, code)
                    outcome.permanent.append(f"{workspace.team_id}: {code}")
                continue
            except (urllib.error.URLError, OSError, ValueError) as error:  # network, or a garbled answer
                outcome.retry = f"{workspace.team_id}: {error.__class__.__name__}"
                continue
            outcome.sent.append(workspace.team_id)
            if workspace.channel_error and workspace.channel_id:  # the bot was let back in
                self.deps.store.channel_works(workspace.id, workspace.channel_id)
        self._settle(item, outcome, sent_before, report)

    def _tell_admins(self, workspace: Workspace, token: str, error: str) -> None:
        """A direct message to each admin, once per broken channel, with a button to choose another."""
        t = translator(workspace.locale)
        text, blocks = m.channel_problem_message(t, workspace.name, workspace.channel_id or "", error)
        admins = dict.fromkeys([*([workspace.installer_user_id] if workspace.installer_user_id else []),
                                *self.deps.store.admin_users(workspace.id)])
        for user_id in admins:
            try:
                self.client.chat_postMessage(token=token, channel=user_id, text=text, blocks=blocks)
            except SlackApiError as failure:
                log.warning("slack: could not tell an admin of %s about the channel: %s", workspace.team_id,
                            failure.response.get("error"))

    def _settle(self, item: outbox.OutboxItem, outcome: _Outcome, sent_before: set[str],
                report: NotifyReport) -> None:
        if outcome.retry_at is None and outcome.retry is None:
            if outcome.sent or not outcome.permanent:
                outbox.delivered(self.deps.uow(), outbox_id=item.id)
                report.sent += 1
            else:
                self._failed(item.id, "; ".join(outcome.permanent), permanent=True, report=report)
            return
        if outcome.sent:  # told some workspaces already: never tell them twice
            outbox.remember_sent(self.deps.uow(), item.id, sorted(sent_before | set(outcome.sent)))
        if outcome.retry_at is not None:
            gave_up = outbox.retry_at(self.deps.uow(), item.id, outcome.retry_at, error=outcome.retry_error)
            report.failed += gave_up
            report.retrying += not gave_up
        else:
            self._failed(item.id, outcome.retry or "", permanent=False, report=report)

    def _failed(self, outbox_id: int, reason: str, *, permanent: bool, report: NotifyReport) -> None:
        gave_up = outbox.record_failure(self.deps.uow(), outbox_id=outbox_id, error=reason, permanent=permanent)
        if gave_up is not None:
            report.failed += gave_up
            report.retrying += not gave_up

    def _token(self, workspace: Workspace) -> str | None:
        """The workspace's bot token: its own install, else (Enterprise Grid) its organisation's."""
        store = self.app.installation_store
        if store is None:  # one workspace: the app's own bot token
            return self.app.client.token
        bot = store.find_bot(enterprise_id=workspace.enterprise_id, team_id=workspace.team_id)
        if bot is None and workspace.enterprise_id:
            bot = store.find_bot(enterprise_id=workspace.enterprise_id, team_id=None, is_enterprise_install=True)
        return bot.bot_token if bot is not None else None


def _retry_after(error: SlackApiError) -> int:
    headers = {k.lower(): v for k, v in (error.response.headers or {}).items()}
    value = headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(1, int(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER


# --- the Resend button of a notice ------------------------------------------------------------

def register(app: App, deps: Deps) -> None:
    """The button on bounce, expiry and renewal notices: send the invitation again."""

    @app.action(RESEND_ACTION)
    def resend(ack: Any, body: dict[str, Any], action: dict[str, Any], context: BoltContext,
               client: WebClient, respond: Any) -> None:
        ack()
        who: Who = context["who"]
        who.require_admin()
        invitation_id = _invitation_id(action.get("value"))
        queries.owned_invitation(deps.uow(), company_id=who.company_id, invitation_id=invitation_id)
        sent = services.resend(deps.uow(), invitation_id=invitation_id, actor=who.actor, via="slack")
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        message = body.get("message") or {}
        if channel and message.get("ts"):
            # The message belongs to the channel: it stays in the workspace's language.
            t = translator(who.workspace.locale)
            blocks = [b for b in message.get("blocks") or [] if b.get("block_id") != ACTIONS_BLOCK]
            mention = f"<@{who.user_id}>"
            blocks.append(b.context(t("{user} sent the invitation again.", user=mention)))
            try:
                client.chat_update(channel=channel, ts=message["ts"], text=message.get("text") or "",
                                   blocks=blocks)
                return
            except SlackApiError as error:
                log.warning("slack: could not update a notice: %s", error.response.get("error"))
        respond(text=who.t("Invitation {id} to {supplier} will be sent again.", id=sent.id,
                           supplier=b.escape(sent.supplier)), response_type="ephemeral", replace_original=False)


def _invitation_id(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise NotFound(N_("There is no invitation with id {id}."), id=str(value)[:20]) from None
