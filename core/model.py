"""The persistent model: companies and their units, people, document types, connections,
invitations and events (SQLAlchemy 2, typed declarative)."""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime()}


def search_key(text: str) -> str:
    """The form names are searched in: NFKC-normalized and case-folded (Unicode-safe)."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


def slugify(text: str, max_length: int = 60) -> str:
    """ASCII letters, digits and hyphens, safe in the local part of an address."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:max_length].strip("-")
    return slug or "company"


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    SUPPLIER = "supplier"
    BOTH = "both"


class Status(enum.StrEnum):
    INVITED = "invited"
    REQUESTED = "requested"
    CONNECTED = "connected"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    DISCONNECTED = "disconnected"


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    UNDELIVERABLE = "undeliverable"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class InboxStatus(enum.StrEnum):
    NEW = "new"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


class MemberRole(enum.StrEnum):
    ADMIN = "admin"
    CONTACT = "contact"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Company(Base):
    __tablename__ = "companies"
    __table_args__ = (
        CheckConstraint(_in("role", Role), name="role"),
        UniqueConstraint("parent_key", "name_key"),
        Index("ix_companies_search_name", "search_name", postgresql_using="gin",
              postgresql_ops={"search_name": "gin_trgm_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Names are unique among siblings: top-level companies share parent_key 0, units their parent's id.
    parent_key: Mapped[int] = mapped_column(Integer, default=0)
    name_key: Mapped[str] = mapped_column(String(200))
    search_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # For addresses such as request+<slug>@MAIL_DOMAIN: lowercase ASCII letters, digits and hyphens.
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"), index=True)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    # Whether a team channel reads this company's notices (set by a chat adapter when one is
    # chosen): without one, no notice is queued that no process would ever send.
    notices_wanted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime]
    # Identity of a supplier. The verified domain is set when a contact at it confirmed an address
    # there by email (never a shared mail provider): only addresses at it join the company unasked.
    verified_domain: Mapped[str | None] = mapped_column(String(253), index=True)
    legal_name: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    tax_id: Mapped[str | None] = mapped_column(String(32), index=True)  # compact form (NPWP: digits only)
    peppol_id: Mapped[str | None] = mapped_column(String(100), index=True)  # "scheme:value", lower case
    # A customer's sign-up profile: listed in the directory, and what it tells a supplier once
    # connected (``tautan.core.services.identity.PROFILE_KEYS``).
    listed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    profile: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    parent: Mapped[Company | None] = relationship(remote_side=[id], back_populates="units")
    units: Mapped[list[Company]] = relationship(back_populates="parent", order_by="Company.name")

    def set_name(self, name: str) -> None:
        self.name = name
        self.name_key = search_key(name)
        self.search_name = self.name_key

    @property
    def root(self) -> Company:
        return self.parent.root if self.parent is not None else self

    @property
    def display_name(self) -> str:
        return f"{self.parent.display_name} / {self.name}" if self.parent is not None else self.name

    @property
    def is_customer(self) -> bool:
        return self.root.role in (Role.CUSTOMER, Role.BOTH)

    @property
    def is_supplier(self) -> bool:
        return self.root.role in (Role.SUPPLIER, Role.BOTH)


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[dt.datetime]

    memberships: Mapped[list[Membership]] = relationship(back_populates="person")


class Membership(Base):
    """A person belongs to a company as its admin (may act for it) or as a contact."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("company_id", "person_id"),
        CheckConstraint(_in("role", MemberRole), name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))

    company: Mapped[Company] = relationship()
    person: Mapped[Person] = relationship(back_populates="memberships")


class DocumentType(Base):
    __tablename__ = "document_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)


class Invitation(Base):
    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint(_in("status", InvitationStatus), name="status"),
        CheckConstraint("lang IN ('en', 'id')", name="lang"),
        Index("ix_invitations_live", "customer_id", "supplier_id", "status"),
        Index("ix_invitations_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"), index=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    message: Mapped[str | None] = mapped_column(Text)
    inviter: Mapped[str] = mapped_column(String(200))
    # How the supplier reads and reaches the inviter; the actor id above is never shown.
    inviter_name: Mapped[str | None] = mapped_column(String(200))
    inviter_email: Mapped[str | None] = mapped_column(String(320))
    reply_token: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime]
    # When the current round of inviting began: creation, or the last reopening of an expired
    # invitation. Reminders count from here.
    invited_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_sent_at: Mapped[dt.datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    customer: Mapped[Company] = relationship(foreign_keys=[customer_id])
    supplier: Mapped[Company] = relationship(foreign_keys=[supplier_id])
    connections: Mapped[list[Connection]] = relationship(
        back_populates="invitation", order_by="Connection.type_id")

    __mapper_args__ = {"version_id_col": version}

    def is_live(self, now: dt.datetime) -> bool:
        return self.status == InvitationStatus.PENDING and now < self.expires_at

    @property
    def type_codes(self) -> list[str]:
        return [c.document_type.code for c in self.connections]


class Connection(Base):
    """One (customer or unit, supplier, document type) and where it stands."""

    __tablename__ = "connections"
    __table_args__ = (
        UniqueConstraint("customer_id", "supplier_id", "type_id"),
        CheckConstraint(_in("status", Status), name="status"),
        # The search paths: a customer's (or unit's) list, a supplier's list, each filtered by
        # status and ordered by last change; the partner filter goes through companies.search_name.
        Index("ix_connections_customer_status_updated", "customer_id", "status", "updated_at", "id"),
        Index("ix_connections_customer_updated", "customer_id", "updated_at", "id"),
        Index("ix_connections_supplier_status_updated", "supplier_id", "status", "updated_at", "id"),
        Index("ix_connections_supplier_updated", "supplier_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"))
    type_id: Mapped[int] = mapped_column(ForeignKey("document_types.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16))
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)

    customer: Mapped[Company] = relationship(foreign_keys=[customer_id])
    supplier: Mapped[Company] = relationship(foreign_keys=[supplier_id])
    document_type: Mapped[DocumentType] = relationship()
    invitation: Mapped[Invitation | None] = relationship(back_populates="connections")

    __mapper_args__ = {"version_id_col": version}


class Event(Base):
    """What happened, who did it and through what; written in the same commit as the change."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_customer_at", "customer_id", "at", "id"),
        Index("ix_events_supplier_at", "supplier_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    via: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime]
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    customer: Mapped[Company | None] = relationship(foreign_keys=[customer_id])
    supplier: Mapped[Company | None] = relationship(foreign_keys=[supplier_id])
    connection: Mapped[Connection | None] = relationship()
    invitation: Mapped[Invitation | None] = relationship()


DOCUMENT_TYPES = ("catalog", "order", "invoice")


class Outbox(Base):
    """A message to deliver (an email now, a Slack notice later), written in the same commit as
    the change that calls for it and delivered by the worker, with retries."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(_in("status", OutboxStatus), name="status"),
        Index("ix_outbox_due", "status", "next_attempt_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    lang: Mapped[str] = mapped_column(String(8))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]
    next_attempt_at: Mapped[dt.datetime]
    lease_until: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    invitation: Mapped[Invitation | None] = relationship()


class Suppression(Base):
    """An address that asked to receive no more invitations from one customer (List-Unsubscribe)."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("email", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    customer_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime]


class Inbox(Base):
    """Every inbound message, stored raw before it is acknowledged, then processed.

    ``dedup_key`` is derived from the Message-ID, the recipients and the body (or, without a
    Message-ID, from the bytes), so the same message delivered twice is stored and acted on once,
    while one Message-ID sent to two of our addresses is two messages."""

    __tablename__ = "inbox"
    __table_args__ = (
        CheckConstraint(_in("status", InboxStatus), name="status"),
        Index("ix_inbox_due", "status", "received_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(80), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(998))
    source: Mapped[str] = mapped_column(String(200))
    mail_from: Mapped[str] = mapped_column(String(320))
    rcpt_tos: Mapped[list[str]] = mapped_column(JSON, default=list)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[dt.datetime | None]
    processed_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)


class SignIn(Base):
    """A request for a supplier's sign-in link. Every request is a row, for known and unknown
    addresses alike, so the rate limits answer the same whoever asks (no account enumeration);
    only a known contact's row has a nonce, which the link carries and which works once."""

    __tablename__ = "supplier_sign_ins"
    __table_args__ = (
        Index("ix_supplier_sign_ins_email_requested", "email", "requested_at"),
        Index("ix_supplier_sign_ins_client_requested", "client", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str | None] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    client: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    requested_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
