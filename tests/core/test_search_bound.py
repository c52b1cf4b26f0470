"""A partner search counts its matches only up to a bound: past it, the page says "more than"."""

from __future__ import annotations

from tautan.core import services
from tautan.core.services import reading
from tests.support import factories as f


def test_a_partner_search_counts_up_to_a_bound(uow, monkeypatch) -> None:  # noqa: ANN001
    f.companies(uow)
    for i in range(5):
        services.invite(uow, customer=f.CUSTOMER, email=f"sales{i}@maju{i}.co.id", supplier_name=f"PT Maju {i}",
                        types=["invoice"], actor=f.ADMIN, via="cli")
    monkeypatch.setattr(reading, "PARTNER_COUNT_BOUND", 3)
    page = services.search(uow, company=f.CUSTOMER, partner="maju", per_page=2)
    assert (page.total, page.exact, page.has_next, len(page.items)) == (3, False, True, 2)
    last = services.search(uow, company=f.CUSTOMER, partner="maju", per_page=2, page=3)
    assert (last.total, last.exact, last.has_next, len(last.items)) == (5, True, False, 1)
    few = services.search(uow, company=f.CUSTOMER, partner="maju 4")
    assert (few.total, few.exact) == (1, True)
    assert services.search(uow, company=f.CUSTOMER).exact  # without a partner: the exact total
