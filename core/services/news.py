"""What the supplier hears of the customer's decisions: one email per decision to each contact of
the supplier company, in that contact's language, threaded with the invitation it answers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from tautan.core.events import Channel
from tautan.core.model import Company, Connection, Invitation, Membership, Outbox, Person
from tautan.core.services._base import _guess_locale
from tautan.core.services.identity import onboarding_of
from tautan.core.uow import UnitOfWork

DECISION = "decision"
# The decisions a supplier is told of (the payload's ``decision``).
DECISIONS = ("approved", "denied", "cancelled", "disconnected", "waiting")


def contacts_of(uow: UnitOfWork, supplier: Company) -> list[Person]:
    return list(uow.session.scalars(
        select(Person).join(Membership, Membership.person_id == Person.id)
        .where(Membership.company_id == supplier.id).order_by(Person.email)))


def _language_of(uow: UnitOfWork, person: Person, connection: Connection) -> str:
    """The contact's own language, else that of the invitation this is about, else that of the last
    invitation sent to the address, else what the address suggests (as for an invitation): never
    the default of a company created without one."""
    if person.locale:
        return person.locale
    if connection.invitation is not None:
        return connection.invitation.lang
    last = uow.session.scalars(select(Invitation.lang).where(Invitation.email == person.email)
                               .order_by(Invitation.id.desc()).limit(1)).first()
    return last or _guess_locale(person.email)


def tell_supplier(uow: UnitOfWork, connections: Sequence[Connection], decision: str, *,
                  reason: str | None = None) -> None:
    """Queue the news of ``decision`` about ``connections`` (one supplier, one customer)."""
    if not connections or decision not in DECISIONS:
        raise ValueError(f"no news for {decision!r}")
    first = connections[0]
    supplier, customer = first.supplier, first.customer
    thread = None
    if first.invitation_id is not None:
        # The original invitation email, so the news lands in the same conversation.
        thread = uow.session.scalars(
            select(Outbox).where(Outbox.invitation_id == first.invitation_id, Outbox.kind == "invitation")
            .order_by(Outbox.id).limit(1)).first()
    types = [c.document_type.code for c in connections]
    # Once connected, the supplier is told how this customer wants each document type (as it stands now).
    onboarding = onboarding_of(customer, types) if decision == "approved" else None
    for person in contacts_of(uow, supplier):
        uow.enqueue(channel=Channel.EMAIL, kind=DECISION, recipient=person.email,
                    lang=_language_of(uow, person, first), decision=decision, customer=customer.display_name,
                    customer_id=customer.id, supplier=supplier.name, types=types,
                    connection_ids=[c.id for c in connections], reason=reason, onboarding=onboarding,
                    thread=[thread.id, f"{thread.created_at:%Y%m%d%H%M%S}"] if thread is not None else None)
