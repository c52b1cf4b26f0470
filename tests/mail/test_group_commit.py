"""Group commit in the SMTP server: messages that arrive while a store is committing go in
together, with one commit, and each sender's answer waits for the commit of its own message."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

from tautan.core.errors import Unavailable
from tautan.core.inbox import Stored
from tautan.mail.inbound import Envelope
from tautan.mail.smtp import _GroupCommit


class SlowInbound:
    """Stores nothing; the first call waits until released, so that others queue behind it."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[int] = []
        self.release = threading.Event()
        self.fail = fail

    def receive_many(self, messages: Sequence[tuple[bytes, Envelope, str]]) -> list[Stored]:
        self.calls.append(len(messages))
        self.release.wait(10)
        if self.fail:
            raise Unavailable()
        return [Stored(id=len(self.calls) * 100 + i, duplicate=False) for i in range(len(messages))]


async def _send_while_busy(inbound: SlowInbound, count: int) -> list[Stored | BaseException]:
    group = _GroupCommit(inbound)  # type: ignore[arg-type]
    envelope = Envelope("a@b.example", ("connect+x@c.example",))
    first = asyncio.ensure_future(group.store(b"first", envelope, source="test"))
    while not inbound.calls:  # the first store is committing
        await asyncio.sleep(0.01)
    others = [asyncio.ensure_future(group.store(b"m%d" % i, envelope, source="test")) for i in range(count)]
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in [first, *others])  # nobody hears anything before the commit
    inbound.release.set()
    return await asyncio.gather(first, *others, return_exceptions=True)


def test_messages_arriving_during_a_commit_share_the_next_one() -> None:
    inbound = SlowInbound()
    results = asyncio.run(_send_while_busy(inbound, 3))
    assert inbound.calls == [1, 3]
    assert [r.id for r in results if isinstance(r, Stored)] == [100, 200, 201, 202]


def test_a_failed_group_commit_fails_every_message_of_it() -> None:
    inbound = SlowInbound(fail=True)
    results = asyncio.run(_send_while_busy(inbound, 2))
    assert all(isinstance(r, Unavailable) for r in results) and inbound.calls == [1, 2]
