"""Short ways to put connections into a given state through the real services."""

from __future__ import annotations

from tautan.core import services
from tautan.core.model import Role, Status
from tautan.core.transitions import Side
from tautan.core.uow import UnitOfWork
from tautan.core.views import InvitationView
from tests.support import FakeClock

CUSTOMER = "PT Pelanggan Jaya"
SUPPLIER = "PT Maju Bersama"
EMAIL = "ana@pt-maju.co.id"
ADMIN = "slack:T1/U1"
CONTACT = "email:ana@pt-maju.co.id"


def companies(uow: UnitOfWork, *, notices: bool = False) -> None:
    """The customer and the supplier; with ``notices``, the customer's team has a Slack channel."""
    customer = services.create_company(uow, name=CUSTOMER, roles=[Role.CUSTOMER], actor=ADMIN, via="cli")
    services.create_company(uow, name=SUPPLIER, roles=[Role.SUPPLIER], actor=ADMIN, via="cli")
    if notices:
        services.set_notices_wanted(uow, company_id=customer.id, wanted=True, actor=ADMIN, via="slack")


def invite(uow: UnitOfWork, types: tuple[str, ...] = ("invoice",), **kwargs: object) -> InvitationView:
    params = {"customer": CUSTOMER, "email": EMAIL, "types": list(types), "actor": ADMIN, "via": "slack",
              "supplier_name": SUPPLIER, **kwargs}
    return services.invite(uow, **params)  # type: ignore[arg-type]


def connection_in(uow: UnitOfWork, clock: FakeClock, status: Status | None, type_: str = "invoice") -> int | None:
    """Make the (customer, supplier, type) connection reach ``status``; returns its id."""
    if status is None:
        return None
    if status == Status.REQUESTED:
        return services.request(uow, supplier=SUPPLIER, customer=CUSTOMER, types=[type_], actor=CONTACT,
                                via="email")[0].id
    invitation = invite(uow, types=(type_,))
    connection_id = invitation.connections[0].id
    if status == Status.INVITED:
        return connection_id
    if status == Status.CONNECTED:
        services.accept(uow, invitation_id=invitation.id, actor=CONTACT, via="email")
    elif status == Status.REJECTED:
        services.decline(uow, invitation_id=invitation.id, actor=CONTACT, via="email")
    elif status == Status.CANCELLED:
        services.cancel(uow, invitation_id=invitation.id, actor=ADMIN, via="slack")
    elif status == Status.EXPIRED:
        clock.advance(days=31)
        services.expire(uow)
    elif status == Status.DISCONNECTED:
        services.accept(uow, invitation_id=invitation.id, actor=CONTACT, via="email")
        services.disconnect(uow, connection_id=connection_id, side=Side.SUPPLIER, actor=CONTACT, via="email")
    return connection_id
