"""The Slack endpoint itself: signatures, timestamps, retries, workspace binding, language."""

from __future__ import annotations

import time

from tautan.slack_store import SlackStore


def test_a_bad_signature_or_a_stale_timestamp_gets_401(slack) -> None:  # noqa: ANN001
    assert slack.command("help", secret="wrong").status_code == 401
    assert slack.command("help", timestamp=int(time.time()) - 6 * 60).status_code == 401
    assert slack.fake.called("chat.postMessage") == [] and slack.fake.called("views.open") == []


def test_a_retried_event_is_not_acted_on_twice(slack) -> None:  # noqa: ANN001
    first = slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    assert first.status_code == 200
    retried = slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"},
                          headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retried.status_code == 200 and retried.headers.get("x-slack-no-retry") == "1"


def test_a_new_workspace_is_bound_to_a_company_of_its_own(slack) -> None:  # noqa: ANN001
    slack.command("help", team="T1")
    slack.command("help", team="T2")
    store = SlackStore(slack.container.engine)
    one, two = store.workspace("T1"), store.workspace("T2")
    assert one and two and one.company_id != two.company_id


def test_url_verification_and_ssl_check(slack) -> None:  # noqa: ANN001
    import json

    answer = slack.post(json.dumps({"token": "x", "challenge": "c-123", "type": "url_verification"}),
                        content_type="application/json")
    assert answer.status_code == 200 and "c-123" in answer.text
