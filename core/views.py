"""What services hand back to adapters: plain, frozen data, usable after the session is closed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from tautan.core.events import EventKind, Via
from tautan.core.i18n import N_, Label, Translator
from tautan.core.model import Company, Connection, Event, Invitation, InvitationStatus

T = TypeVar("T")


@dataclass(frozen=True)
class CompanyView:
    id: int
    name: str
    display_name: str
    role: str
    slug: str
    parent_id: int | None
    locale: str


@dataclass(frozen=True)
class ConnectionView:
    id: int
    customer_id: int
    customer: str
    supplier_id: int
    supplier: str
    type: str
    status: str
    invitation_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class InvitationView:
    id: int
    customer_id: int
    customer: str
    customer_root: str
    unit: str | None
    supplier_id: int
    supplier: str
    email: str
    lang: str
    message: str | None
    inviter: str
    reply_token: str
    status: str
    created_at: dt.datetime
    invited_at: dt.datetime
    expires_at: dt.datetime
    closed_at: dt.datetime | None
    last_sent_at: dt.datetime | None
    reminders_sent: int
    connections: tuple[ConnectionView, ...]
    created: bool = True
    added_types: tuple[str, ...] = ()
    inviter_name: str | None = None
    inviter_email: str | None = None
    join_path: str = ""  # the customer's (or unit's) join page: /join/<customer>[/<unit>]

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(c.type for c in self.connections)


@dataclass(frozen=True)
class EventView:
    id: int
    kind: str
    actor: str
    via: str
    at: dt.datetime
    customer_id: int | None
    supplier_id: int | None
    connection_id: int | None
    invitation_id: int | None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PartnerView:
    """One supplier and its connections with a customer company and its units (one per customer
    and document type), as a list of partners shows it."""

    supplier_id: int
    supplier: str
    last_change: dt.datetime
    connections: tuple[ConnectionView, ...]


@dataclass(frozen=True)
class SupplierChoice:
    """A supplier a customer company works with, as a type-ahead menu offers it: its name and the
    address the company last invited it at (None: it only ever asked to connect)."""

    id: int
    name: str
    email: str | None


@dataclass(frozen=True)
class UnitView:
    """A unit of a customer company, as a menu offers it."""

    id: int
    name: str


@dataclass(frozen=True)
class ActivityView:
    """One line of recent activity: one change, which may cover several document types."""

    kind: str
    partner: str | None
    types: tuple[str, ...]
    at: dt.datetime


@dataclass(frozen=True)
class DashboardView:
    """A customer company and its units at a glance: counts by status and the recent activity."""

    company_id: int
    company: str
    units: tuple[str, ...]
    counts: Mapping[str, int]
    activity: tuple[ActivityView, ...]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class NoticeView:
    """What one change worth telling the customer's team is about, read from its events."""

    kind: str
    company_id: int
    supplier: str
    email: str | None
    unit: str | None
    types: tuple[str, ...]
    reason: str | None
    invitation_id: int | None
    connections: tuple[tuple[int, str], ...] = ()  # (connection id, document type) for requests
    similar_to: str | None = None  # a request: an existing company of that name the requester is not of
    duplicate_of: str | None = None  # the supplier's tax or PEPPOL id is another company's


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results. ``exact=False``: more than ``total`` rows match (a search that does not
    count every match, as counting a common word's matches costs more than the page itself)."""

    items: tuple[T, ...]
    total: int
    page: int
    per_page: int
    exact: bool = True

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return not self.exact or self.page < self.pages


def company_view(company: Company) -> CompanyView:
    return CompanyView(id=company.id, name=company.name, display_name=company.display_name,
                       role=company.role, slug=company.slug, parent_id=company.parent_id, locale=company.locale)


def connection_view(connection: Connection) -> ConnectionView:
    return ConnectionView(
        id=connection.id, customer_id=connection.customer_id, customer=connection.customer.display_name,
        supplier_id=connection.supplier_id, supplier=connection.supplier.name,
        type=connection.document_type.code, status=connection.status,
        invitation_id=connection.invitation_id, created_at=connection.created_at,
        updated_at=connection.updated_at)


def invitation_view(invitation: Invitation, *, created: bool = True, added_types: tuple[str, ...] = (),
                    connections: tuple[ConnectionView, ...] | None = None) -> InvitationView:
    """The invitation as adapters read it; ``connections`` when they were read already (in bulk)."""
    customer = invitation.customer
    return InvitationView(
        id=invitation.id, customer_id=customer.id, customer=customer.display_name,
        customer_root=customer.root.name, unit=customer.name if customer.parent_id else None,
        supplier_id=invitation.supplier_id, supplier=invitation.supplier.name, email=invitation.email,
        lang=invitation.lang, message=invitation.message, inviter=invitation.inviter,
        reply_token=invitation.reply_token, status=invitation.status, created_at=invitation.created_at,
        invited_at=invitation.invited_at, expires_at=invitation.expires_at, closed_at=invitation.closed_at,
        last_sent_at=invitation.last_sent_at,
        reminders_sent=invitation.reminders_sent,
        connections=(tuple(connection_view(c) for c in invitation.connections) if connections is None
                     else connections),
        created=created, added_types=added_types, join_path=join_path(customer),
        inviter_name=invitation.inviter_name, inviter_email=invitation.inviter_email)


def join_path(company: Company) -> str:
    root = company.root
    if company.parent_id is None:
        return f"/join/{root.slug}"
    return f"/join/{root.slug}/{company.slug.removeprefix(root.slug + '-')}"


def event_view(event: Event) -> EventView:
    return EventView(id=event.id, kind=event.kind, actor=event.actor, via=event.via, at=event.at,
                     customer_id=event.customer_id, supplier_id=event.supplier_id,
                     connection_id=event.connection_id, invitation_id=event.invitation_id,
                     details=MappingProxyType(dict(event.details or {})))


INVITATION_STATUS_LABELS: Mapping[InvitationStatus, Label] = MappingProxyType({
    InvitationStatus.PENDING: Label(N_("waiting for an answer")),
    InvitationStatus.ACCEPTED: Label(N_("accepted")),
    InvitationStatus.DECLINED: Label(N_("declined")),
    InvitationStatus.CANCELLED: Label(N_("cancelled")),
    InvitationStatus.EXPIRED: Label(N_("expired")),
    InvitationStatus.UNDELIVERABLE: Label(N_("undeliverable")),
})

DOCUMENT_TYPE_LABELS: Mapping[str, Label] = MappingProxyType({
    "catalog": Label(N_("catalog")),
    "order": Label(N_("order")),
    "invoice": Label(N_("invoice")),
})

# The same types as a kind of document in general ("exchange orders and invoices").
DOCUMENT_TYPE_PLURAL_LABELS: Mapping[str, Label] = MappingProxyType({
    "catalog": Label(N_("catalogs")),
    "order": Label(N_("orders")),
    "invoice": Label(N_("invoices")),
})

EVENT_LABELS: Mapping[str, Label] = MappingProxyType({
    EventKind.COMPANY_CREATED: Label(N_("company created")),
    EventKind.UNIT_CREATED: Label(N_("unit created")),
    EventKind.COMPANY_LANGUAGE: Label(N_("language of notices changed")),
    EventKind.INVITED: Label(N_("invited")),
    EventKind.REQUESTED: Label(N_("asked to connect")),
    EventKind.ACCEPTED: Label(N_("accepted")),
    EventKind.APPROVED: Label(N_("approved")),
    EventKind.DECLINED: Label(N_("declined")),
    EventKind.DENIED: Label(N_("denied")),
    EventKind.CANCELLED: Label(N_("cancelled")),
    EventKind.EXPIRED: Label(N_("expired")),
    EventKind.DISCONNECTED: Label(N_("disconnected")),
    EventKind.RESENT: Label(N_("invitation sent again")),
    EventKind.REMINDED: Label(N_("reminder sent")),
    EventKind.BOUNCED: Label(N_("invitation could not be delivered")),
    EventKind.RENEWAL_REQUESTED: Label(N_("asked for a new invitation")),
    EventKind.UNSUBSCRIBED: Label(N_("asked for no more invitations")),
    EventKind.SIGNED_IN: Label(N_("signed in to the supplier page")),
    EventKind.WITHDRAWN: Label(N_("request withdrawn")),
    EventKind.CONTACT_ADDED: Label(N_("contact added")),
    EventKind.CONTACT_REMOVED: Label(N_("contact removed")),
    EventKind.REQUEST_REMINDED: Label(N_("supplier told the request is still waiting")),
    EventKind.REPLY_READ: Label(N_("email reply read")),
    EventKind.CONFIRMATION_ASKED: Label(N_("asked the supplier to confirm their reply")),
    EventKind.CONFIRMATION_ANSWERED: Label(N_("supplier answered the confirmation question")),
    EventKind.SUPPLIER_IDENTITY: Label(N_("company details recorded")),
    EventKind.POSSIBLE_DUPLICATE: Label(N_("possible duplicate supplier")),
    EventKind.COMPANY_PROFILE: Label(N_("sign-up profile changed")),
})

# Through what a change was made, as people read it (``Event.via``).
VIA_LABELS: Mapping[str, str] = MappingProxyType({
    Via.CLI: N_("command line"),
    Via.SLACK: N_("Slack"),
    Via.EMAIL: N_("email"),
    Via.LINK: N_("email link"),
    Via.SYSTEM: N_("Tautan itself"),
})


def actor_text(t: Translator, actor: str) -> str:
    """Who did something, as a person reads it: a name or an address, never the raw actor id.

    ``email:ana@pt-maju.co.id`` → ``ana@pt-maju.co.id``; ``cli:ana`` → ``ana``; ``system`` →
    Tautan. A Slack actor without a name here reads "a Slack user" (the Slack adapter shows a
    mention instead)."""
    kind, _, who = actor.partition(":")
    if kind == "system" and not who:
        return t("Tautan")
    if kind == "slack":
        return t("a Slack user")
    if kind in ("email", "cli") and who:
        return who
    return t("someone")
