"""Supplier requests, and the connection-level actions of either side (approve, deny, withdraw,
disconnect)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from tautan.core.errors import (
    AlreadyConnected,
    InvalidInput,
    NotFound,
)
from tautan.core.events import EventKind
from tautan.core.i18n import N_
from tautan.core.model import (
    Company,
    Connection,
    Status,
)
from tautan.core.services._base import (
    CompanyRef,
    _clean_message,
    _company,
    _document_types,
    _move,
    _supplier_for_request,
    _type_codes,
    normalize_email,
)
from tautan.core.services.news import tell_supplier
from tautan.core.transitions import Action, Side, transition
from tautan.core.uow import UnitOfWork
from tautan.core.views import (
    ConnectionView,
    connection_view,
)


def request_by_email(uow: UnitOfWork, *, email: str, customer: CompanyRef, types: Sequence[str], actor: str,
                     via: str, supplier_name: str | None = None, contact: str | None = None) -> list[ConnectionView]:
    """A supplier contact, having confirmed its address, asks a customer to connect (``contact``:
    the person at the customer it named, already checked by the caller)."""
    email = normalize_email(email)
    type_codes = _type_codes(types)
    with uow:
        target = _company(uow.session, customer)
        supplier, _person, similar = _supplier_for_request(uow, email, supplier_name)
        details: dict[str, Any] = {"email": email}
        if contact:
            details["contact"] = normalize_email(contact)
        if similar is not None:
            # The admins' notice says plainly: a company of that name exists, and this address is not its.
            details["similar_to"] = similar
        views = _request(uow, supplier, target, type_codes, actor=actor, via=via, **details)
        uow.commit()
    return views


def request(uow: UnitOfWork, *, supplier: CompanyRef, customer: CompanyRef, types: Sequence[str],
            actor: str, via: str, unit: str | None = None) -> list[ConnectionView]:
    """A supplier asks a customer (or one of its units) to connect for some document types."""
    type_codes = _type_codes(types)
    with uow:
        asking = _company(uow.session, supplier)
        views = _request(uow, asking, _company(uow.session, customer, unit=unit), type_codes, actor=actor, via=via)
        uow.commit()
    return views


def _request(uow: UnitOfWork, asking: Company, target: Company, type_codes: Sequence[str], *, actor: str,
             via: str, **details: Any) -> list[ConnectionView]:
    session, now = uow.session, uow.now()
    if not asking.is_supplier:
        raise InvalidInput(N_("{name} is not a supplier company."), name=asking.name)
    if not target.is_customer:
        raise InvalidInput(N_("{name} is not a customer company."), name=target.display_name)
    if target.root.id == asking.id:
        raise InvalidInput(N_("A company cannot invite itself."))
    changed = []
    for document_type in _document_types(session, type_codes):
        connection = session.scalars(
            select(Connection).where(Connection.customer_id == target.id,
                                     Connection.supplier_id == asking.id,
                                     Connection.type_id == document_type.id)
            .with_for_update()).first()
        current = connection.status if connection is not None else None
        if current == Status.CONNECTED:
            raise AlreadyConnected(supplier=asking.name, customer=target.display_name,
                                   types=[document_type.code])
        status = transition(Action.REQUEST, current, Side.SUPPLIER)
        if connection is None:
            connection = Connection(customer=target, supplier=asking, document_type=document_type,
                                    created_at=now)
            session.add(connection)
        _move(uow, connection, status, Action.REQUEST, actor=actor, via=via, previous=current, **details)
        changed.append(connection)
    session.flush()
    return [connection_view(c) for c in changed]


def approve(uow: UnitOfWork, *, connection_id: int, actor: str, via: str) -> ConnectionView:
    """The customer approves a supplier's request; the supplier's contacts are told by email."""
    return _act(uow, Action.APPROVE, Side.CUSTOMER, connection_id=connection_id, actor=actor, via=via)


def deny(uow: UnitOfWork, *, connection_id: int, actor: str, via: str, reason: str | None = None) -> ConnectionView:
    """The customer denies a supplier's request, with an optional reason the supplier is told."""
    return _act(uow, Action.DENY, Side.CUSTOMER, connection_id=connection_id, actor=actor, via=via, reason=reason)


def cancel_request(uow: UnitOfWork, *, connection_id: int, actor: str, via: str) -> ConnectionView:
    """The supplier withdraws its own request."""
    return _act(uow, Action.CANCEL, Side.SUPPLIER, connection_id=connection_id, actor=actor, via=via)


def disconnect(uow: UnitOfWork, *, connection_id: int, side: Side, actor: str, via: str,
               reason: str | None = None, supplier_id: int | None = None) -> ConnectionView:
    """Either side ends a connection, with an optional reason. When the customer ends it, the
    supplier's contacts are told by email. ``supplier_id`` limits the change to that supplier's
    own connections (the supplier page): another company's connection is not found."""
    return _act(uow, Action.DISCONNECT, side, connection_id=connection_id, actor=actor, via=via, reason=reason,
                supplier_id=supplier_id)


# The news a supplier gets when the customer takes one of these actions.
_NEWS = {Action.APPROVE: "approved", Action.DENY: "denied", Action.DISCONNECT: "disconnected"}


def _act(uow: UnitOfWork, action: Action, side: Side, *, connection_id: int, actor: str,
         via: str, reason: str | None = None, supplier_id: int | None = None,
         kind: EventKind | None = None) -> ConnectionView:
    reason = _clean_message(reason)
    with uow:
        session = uow.session
        connection = session.get(Connection, connection_id, with_for_update=True)
        if connection is None or (supplier_id is not None and connection.supplier_id != supplier_id):
            raise NotFound(N_("There is no connection with id {id}."), id=connection_id)
        current = connection.status
        status = transition(action, current, side)
        details: dict[str, Any] = {"reason": reason} if reason else {}
        _move(uow, connection, status, action, actor=actor, via=via, previous=current, kind=kind, **details)
        if side is Side.CUSTOMER and action in _NEWS:
            tell_supplier(uow, [connection], _NEWS[action], reason=reason)
        session.flush()
        view = connection_view(connection)
        uow.commit()
    return view


