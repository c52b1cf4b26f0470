"""Bidirectional control characters cannot reorder what a reader sees: they are removed on input
from company names, supplier names and messages."""

from __future__ import annotations

from tautan.core import services
from tautan.core.model import Role
from tests.support import factories as f

CONTROLS = "".join(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def test_names_and_messages_lose_bidi_controls(uow) -> None:  # noqa: ANN001
    company = services.create_company(uow, name=f"PT \u202eJaya{CONTROLS}", roles=[Role.CUSTOMER], actor=f.ADMIN,
                                      via="cli")
    assert company.name == "PT Jaya"
    invitation = services.invite(uow, customer=company.id, email="ana@pt-maju.co.id", types=["invoice"],
                                 actor=f.ADMIN, via="cli", supplier_name="PT \u2067Maju\u2069 Bersama",
                                 message="Mohon \u202egabung\u202c segera")
    assert invitation.supplier == "PT Maju Bersama"
    assert invitation.message == "Mohon gabung segera"
    assert not any(ch in CONTROLS for ch in invitation.customer + invitation.supplier + invitation.message)
