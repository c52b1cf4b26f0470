"""The Slack endpoint itself: signatures, timestamps, retries, workspace binding, language."""

from __future__ import annotations

import time

from tautan.slack_store import SlackStore
from tests.support.slack import MANY_WORKSPACES, install


def test_a_bad_signature_or_a_stale_timestamp_gets_401(slack) -> None:  # noqa: ANN001
    assert slack.command("help", secret="wrong").status_code == 401
    assert slack.command("help", timestamp=int(time.time()) - 6 * 60).status_code == 401
    assert slack.fake.called("chat.postMessage") == [] and slack.fake.called("views.open") == []


def test_a_retried_event_is_not_acted_on_twice(slack) -> None:  # noqa: ANN001
    first = slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}, event_id="Ev1")
    assert first.status_code == 200
    slack.fake.wait_for("views.publish")
    retried = slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"},
                          event_id="Ev1", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retried.status_code == 200 and retried.headers.get("x-slack-no-retry") == "1"
    assert len(slack.fake.called("views.publish")) == 1


def test_a_first_delivery_marked_retry_zero_is_acted_on(slack) -> None:  # noqa: ANN001
    """Socket Mode sends ``retry_attempt: 0`` with a first delivery; Bolt turns it into this header."""
    answer = slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"},
                         headers={"X-Slack-Retry-Num": "0"})
    assert answer.status_code == 200 and answer.headers.get("x-slack-no-retry") is None
    slack.fake.wait_for("views.publish")


def test_a_retry_of_an_event_we_never_got_is_acted_on(slack) -> None:  # noqa: ANN001
    answer = slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"},
                         event_id="EvLost", headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"})
    assert answer.status_code == 200 and answer.headers.get("x-slack-no-retry") is None
    slack.fake.wait_for("views.publish")


def test_a_new_workspace_is_bound_to_a_company_of_its_own(make_slack) -> None:  # noqa: ANN001
    slack = make_slack(**MANY_WORKSPACES)
    install(slack, "T1")
    install(slack, "T2")
    slack.fake.users["U2"] = {"team_id": "T2"}
    slack.command("help", team="T1")
    slack.command("help", team="T2", user="U2")
    store = SlackStore(slack.container.engine)
    one, two = store.workspace("T1"), store.workspace("T2")
    assert one and two and one.company_id != two.company_id


def test_with_one_bot_token_another_workspace_is_refused(slack) -> None:  # noqa: ANN001
    assert slack.command("help", team="T1").status_code == 200
    answer = slack.command("help", team="T2", user="U2")
    assert answer.status_code == 200 and answer.text == ""
    store = SlackStore(slack.container.engine)
    assert store.workspace("T1") is not None and store.workspace("T2") is None, "no company for a stranger"
    assert slack.fake.called("webhook/T2/U2") == []


def test_url_verification_and_ssl_check(slack) -> None:  # noqa: ANN001
    import json

    answer = slack.post(json.dumps({"token": "x", "challenge": "c-123", "type": "url_verification"}),
                        content_type="application/json")
    assert answer.status_code == 200 and "c-123" in answer.text
