"""What the mail tests share: an invitation to answer."""

from __future__ import annotations

import pytest

from tests.support import factories as f


@pytest.fixture
def invited(container):  # noqa: ANN001, ANN201
    """PT Pelanggan Jaya's invitation of PT Maju Bersama, for invoices, in Indonesian (a module
    that needs other types defines its own)."""
    uow = container.uow()
    f.companies(uow)
    return f.invite(uow, types=("invoice",), lang="id")
