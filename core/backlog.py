"""What is waiting in the queues: inbox and outbox rows by state, with the age of the oldest, so
an operator (``tautan status``, ``/readyz``) can see a stuck queue before anyone complains."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select

from tautan.core.model import Inbox, Outbox
from tautan.core.uow import UnitOfWork


@dataclass(frozen=True)
class Queue:
    """One queue (``inbox``, or ``outbox`` of a channel) in one state."""

    queue: str
    state: str
    count: int
    oldest_seconds: int


def backlog(uow: UnitOfWork) -> list[Queue]:
    """Every (queue, state) with rows, its count and the age of its oldest row, in seconds."""
    with uow:
        now = uow.now()
        rows: list[Queue] = []
        inbox = uow.session.execute(select(Inbox.status, func.count(), func.min(Inbox.received_at))
                                    .group_by(Inbox.status).order_by(Inbox.status))
        for state, count, oldest in inbox:
            rows.append(Queue("inbox", state, count, _age(now, oldest)))
        outbox = uow.session.execute(select(Outbox.channel, Outbox.status, func.count(), func.min(Outbox.created_at))
                                     .group_by(Outbox.channel, Outbox.status).order_by(Outbox.channel, Outbox.status))
        for channel, state, count, oldest in outbox:
            rows.append(Queue(f"outbox:{channel}", state, count, _age(now, oldest)))
    return rows


def as_json(queues: list[Queue]) -> dict[str, Any]:
    """``{"inbox": {"new": {"count": 3, "oldest_seconds": 12}}, "outbox:email": {...}}``."""
    result: dict[str, Any] = {}
    for queue in queues:
        entry = asdict(queue)
        result.setdefault(entry.pop("queue"), {})[entry.pop("state")] = entry
    return result


def _age(now: Any, oldest: Any) -> int:
    if oldest is None:
        return 0
    if oldest.tzinfo is None:  # SQLite returns naive UTC from an aggregate
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return max(0, int((now - oldest).total_seconds()))
