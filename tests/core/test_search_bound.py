"""A partner search does not count its matches: it fetches one row more than the page, so it can
say whether a next page exists, and "more than N" until the last page."""

from __future__ import annotations

from tautan.core import services
from tests.support import factories as f


def test_a_partner_search_says_more_than_until_its_last_page(uow) -> None:  # noqa: ANN001
    f.companies(uow)
    for i in range(5):
        services.invite(uow, customer=f.CUSTOMER, email=f"sales{i}@maju{i}.co.id", supplier_name=f"PT Maju {i}",
                        types=["invoice"], actor=f.ADMIN, via="cli")
    first = services.search(uow, company=f.CUSTOMER, partner="maju", per_page=2)
    assert (first.total, first.exact, first.has_next, len(first.items)) == (2, False, True, 2)
    second = services.search(uow, company=f.CUSTOMER, partner="maju", per_page=2, page=2)
    assert (second.total, second.exact, second.has_next) == (4, False, True)
    last = services.search(uow, company=f.CUSTOMER, partner="maju", per_page=2, page=3)
    assert (last.total, last.exact, last.has_next, len(last.items)) == (5, True, False, 1)
    assert {c.id for c in first.items + second.items + last.items} == {
        c.id for c in services.search(uow, company=f.CUSTOMER, per_page=10).items}
    beyond = services.search(uow, company=f.CUSTOMER, partner="maju", per_page=2, page=9)
    assert (beyond.total, beyond.exact, beyond.items) == (5, True, ())
    few = services.search(uow, company=f.CUSTOMER, partner="maju 4")
    assert (few.total, few.exact) == (1, True)
    assert services.search(uow, company=f.CUSTOMER).exact  # without a partner: the exact total
