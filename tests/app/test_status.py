"""``tautan status`` and ``/readyz`` show the inbox and outbox backlog by state and age."""

from __future__ import annotations

import json

from click.testing import CliRunner
from starlette.testclient import TestClient

from tautan.cli import build_cli
from tautan.core import inbox
from tautan.core.backlog import backlog
from tautan.core.i18n import translator
from tautan.web import create_app


def fill(uow, clock) -> None:  # noqa: ANN001
    with uow:
        uow.enqueue(channel="email", kind="answer_help", recipient="ana@pt-maju.co.id", lang="en")
        uow.commit()
    inbox.store(uow, dedup_key="mid:1", message_id="<1@x>", source="test", mail_from="a@b.example",
                rcpt_tos=["postmaster"], raw=b"Subject: x\r\n\r\nx\r\n")
    clock.advance(minutes=90)


def test_backlog_by_state_and_age(uow, clock) -> None:  # noqa: ANN001
    fill(uow, clock)
    queues = {(q.queue, q.state): q for q in backlog(uow)}
    assert queues[("inbox", "new")].count == 1 and queues[("inbox", "new")].oldest_seconds == 5400
    assert queues[("outbox:email", "pending")].count == 1


def test_status_command_and_readyz(container, uow, clock, monkeypatch) -> None:  # noqa: ANN001
    fill(uow, clock)
    monkeypatch.setenv("DATABASE_URL", container.settings.database_url)
    runner = CliRunner()
    result = runner.invoke(build_cli(translator("en")), ["status", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["inbox"]["new"]["count"] == 1 and figures["outbox:email"]["pending"]["count"] == 1
    text = runner.invoke(build_cli(translator("id")), ["status"]).output
    assert "inbox · new: 1" in text
    with TestClient(create_app(container)) as client:
        ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["queues"]["inbox"]["new"]["oldest_seconds"] == 5400
