"""The App Home tab: the dashboard of the workspace's customer company.

Counts by status (the company and its units together), the supplier requests waiting for an
answer with Approve/Deny buttons, the recent activity, and an "Invite suppliers" button. Shown
in the reader's language, and only ever the data of the company the workspace is bound to.
Admins get the buttons; everyone else sees the same figures and a word on who can act.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tautan.bot import blocks as b
from tautan.bot import profile
from tautan.bot.app import Deps, Who
from tautan.core import services
from tautan.core.i18n import Translator
from tautan.core.model import Company, Connection, Event, Status
from tautan.core.uow import UnitOfWork
from tautan.core.views import EVENT_LABELS, ConnectionView

INVITE_ACTION = "open_invite"
MAX_REQUESTS = 10  # each takes two blocks; the rest are one `/connect requests` away
MAX_ACTIVITY = 10
MAX_BLOCKS = 100  # Slack's limit for a Home tab


@dataclass(frozen=True)
class Activity:
    kind: str
    partner: str | None
    types: tuple[str, ...]
    at: dt.datetime


@dataclass(frozen=True)
class Dashboard:
    company_id: int
    company: str
    units: tuple[str, ...]
    counts: dict[str, int]
    requests: tuple[ConnectionView, ...]
    requests_total: int
    activity: tuple[Activity, ...]
    # Suppliers of the waiting requests that told us who they are (or look like another company).
    identities: dict[int, services.IdentityView] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def register(app: App, deps: Deps) -> None:
    """The Home tab, and the button on it that opens the invite modal."""

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        who: Who | None = context.get("who")
        if who is None or event.get("tab", "home") != "home":
            return
        publish_home(client, who, deps)

    @app.action(INVITE_ACTION)
    def open_invite(ack: Any, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        who: Who = context["who"]
        if not who.is_admin:  # a Home tab from before the user lost the right: show the current one
            publish_home(client, who, deps)
            return
        from tautan.bot import modal  # built beside this module; imported when first needed

        modal.open_invite_modal(deps, who, client, trigger_id=body["trigger_id"])


def publish_home(client: WebClient, who: Who, deps: Deps) -> None:
    """Publish (or refresh, e.g. after an approval) the user's Home tab."""
    dashboard = load_dashboard(deps, who.company_id)
    client.views_publish(user_id=who.user_id, view=home_view(dashboard, who.t, is_admin=who.is_admin))


def load_dashboard(deps: Deps, company_id: int) -> Dashboard:
    """Everything the Home tab shows, for one customer company and its units."""
    dashboard = _load_dashboard(deps, company_id)
    return dataclasses.replace(dashboard, identities=_identities(deps, dashboard.requests))


def _load_dashboard(deps: Deps, company_id: int) -> Dashboard:
    requests = services.search(deps.uow(), company=company_id, statuses=[Status.REQUESTED], per_page=MAX_REQUESTS)
    uow: UnitOfWork = deps.uow()
    with uow:
        session = uow.session
        company = session.get(Company, company_id)
        if company is None:
            raise LookupError(company_id)
        members = [company.id, *(u.id for u in company.units)]
        counts = {status: count for status, count in session.execute(
            select(Connection.status, func.count()).where(Connection.customer_id.in_(members))
            .group_by(Connection.status))}
        # A change for three types (an invitation, a request) is three events at one moment: read a
        # few more, show them as one line.
        events = session.scalars(
            select(Event).where(Event.customer_id.in_(members))
            .order_by(Event.at.desc(), Event.id.desc()).limit(MAX_ACTIVITY * 4)
            .options(selectinload(Event.supplier)))
        activity: list[Activity] = []
        last_key: tuple[Any, ...] | None = None
        for event in events:
            details = event.details or {}
            key = (event.kind, event.invitation_id, event.supplier_id, event.at)
            code = details.get("type")
            if key == last_key and activity:
                if code and code not in activity[-1].types:
                    previous = activity[-1]
                    activity[-1] = Activity(previous.kind, previous.partner, (code, *previous.types), previous.at)
                continue
            if len(activity) == MAX_ACTIVITY:
                break
            last_key = key
            partner = event.supplier.name if event.supplier is not None else details.get("name")
            activity.append(Activity(event.kind, partner, (code,) if code else (), event.at))
        return Dashboard(company_id=company.id, company=company.name, units=tuple(u.name for u in company.units),
                         counts=counts, requests=requests.items, requests_total=requests.total,
                         activity=tuple(activity))


def _identities(deps: Deps, requests: Sequence[ConnectionView]) -> dict[int, services.IdentityView]:
    found = {}
    for supplier_id in {r.supplier_id for r in requests}:
        identity = services.supplier_identity(deps.uow(), supplier_id)
        if identity.legal_name or identity.tax_id or identity.peppol_id or identity.duplicate_of:
            found[supplier_id] = identity
    return found


def home_view(dashboard: Dashboard, t: Translator, *, is_admin: bool) -> dict[str, Any]:
    """The Home tab as Block Kit (plain data), at most 100 blocks."""
    summary = [b.escape(t.ngettext("{n} connection", "{n} connections", dashboard.total))]
    if dashboard.units:
        summary.append(t("Including the units {units}.", units=t.list(b.escape(name) for name in dashboard.units)))
    blocks: list[dict[str, Any]] = [b.header(t("Connections of {company}", company=dashboard.company)),
                                    b.context(*summary)]
    if is_admin:
        blocks.append(b.actions(b.button(t("Invite suppliers"), INVITE_ACTION, "home", style="primary"),
                                block_id="home_invite"))
    if dashboard.total:
        fields = [b.mrkdwn(f"*{_capitalize(b.status_label(t, status))}*\n{t.number(dashboard.counts[status])}")
                  for status in Status if dashboard.counts.get(status)]
        blocks.append({"type": "section", "fields": fields[:10]})
    else:
        blocks.append(b.section(t("No connections yet. Invite your first suppliers to begin.")))

    blocks += [b.divider(), b.header(t("Requests waiting for an answer"))]
    for request in dashboard.requests[:MAX_REQUESTS]:
        in_unit = request.customer_id != dashboard.company_id
        blocks += b.request_rows(t, request, buttons=is_admin, show_customer=in_unit)
        if request.supplier_id in dashboard.identities:
            blocks += profile.identity_blocks(t, dashboard.identities[request.supplier_id])
    if not dashboard.requests:
        blocks.append(b.context(t("No requests are waiting.")))
    elif dashboard.requests_total > len(dashboard.requests):
        blocks.append(b.context(t("… and {count} more. Type /connect requests to see them all.",
                                  count=t.number(dashboard.requests_total - len(dashboard.requests)))))

    blocks += [b.divider(), b.header(t("Recent activity"))]
    for item in dashboard.activity:
        blocks.append(b.context(f"{_activity_line(item, t)} · {b.escape(b.when(t, item.at))}"))
    if not dashboard.activity:
        blocks.append(b.context(t("Nothing has happened yet.")))
    if not is_admin:
        blocks += [b.divider(), b.context(t("Only admins can invite suppliers and answer requests."))]
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}


def _activity_line(item: Activity, t: Translator) -> str:
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
