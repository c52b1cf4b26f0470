"""Short leases kept alive while working. A claimed row (outbox, inbox) is leased for a few
seconds; while its process is alive a heartbeat renews the lease, so a slow send never loses its
claim, and a process killed mid-work gives its rows back within seconds instead of minutes."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from sqlalchemy import update

log = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=15)
# Three beats a lease: one missed beat (a slow database) does not lose the claim.
HEARTBEAT = LEASE / 3


def renew(uow: Any, model: Any, working: str, *, ids: Sequence[int], lease: dt.timedelta = LEASE) -> int:  # noqa: ANN401
    """Extend the lease of ``model`` rows (outbox or inbox) this process still works on (status
    ``working``): its heartbeat. Returns how many were renewed; a finished row is not leased again."""
    if not ids:
        return 0
    with uow:
        result = uow.session.execute(update(model).where(model.id.in_(list(ids)), model.status == working)
                                     .values(lease_until=uow.now() + lease))
        uow.commit()
    return int(result.rowcount or 0)


class Heartbeat:
    """``with Heartbeat(renew, ids):`` calls ``renew(ids)`` every ``interval`` until the block ends."""

    def __init__(self, renew: Callable[[Sequence[int]], object], ids: Sequence[int], *,
                 interval: dt.timedelta = HEARTBEAT) -> None:
        self.renew = renew
        self.ids = list(ids)
        self.interval = interval.total_seconds()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        if self.ids:
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()

    def _beat(self) -> None:
        while not self._done.wait(self.interval):
            try:
                self.renew(self.ids)
            except Exception:  # a missed beat is harmless until the lease ends; the next one may pass
                log.warning("lease: could not renew %d claimed rows", len(self.ids), exc_info=True)
