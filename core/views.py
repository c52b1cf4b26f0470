"""What services hand back to adapters: plain, frozen data, usable after the session is closed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from tautan.core.i18n import N_, Label
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


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


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


def invitation_view(invitation: Invitation, *, created: bool = True,
                    added_types: tuple[str, ...] = ()) -> InvitationView:
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
        connections=tuple(connection_view(c) for c in invitation.connections),
        created=created, added_types=added_types)


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

EVENT_LABELS: Mapping[str, Label] = MappingProxyType({
    "company_created": Label(N_("company created")),
    "unit_created": Label(N_("unit created")),
    "company_language": Label(N_("language of notices changed")),
    "invited": Label(N_("invited")),
    "requested": Label(N_("asked to connect")),
    "accepted": Label(N_("accepted")),
    "approved": Label(N_("approved")),
    "declined": Label(N_("declined")),
    "denied": Label(N_("denied")),
    "cancelled": Label(N_("cancelled")),
    "expired": Label(N_("expired")),
    "disconnected": Label(N_("disconnected")),
    "resent": Label(N_("invitation sent again")),
    "reminded": Label(N_("reminder sent")),
    "bounced": Label(N_("invitation could not be delivered")),
    "renewal_requested": Label(N_("asked for a new invitation")),
    "unsubscribed": Label(N_("asked for no more invitations")),
})

# Through what a change was made, as people read it (``Event.via``).
VIA_LABELS: Mapping[str, str] = MappingProxyType({
    "cli": N_("command line"),
    "slack": N_("Slack"),
    "email": N_("email"),
    "link": N_("link"),
    "system": N_("tautan itself"),
})
