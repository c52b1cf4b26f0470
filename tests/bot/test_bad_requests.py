"""Requests that are signed but not what Slack sends get a clear 400, never a 500."""

from __future__ import annotations

import urllib.parse


def test_a_payload_that_is_not_json_is_a_bad_request(slack) -> None:  # noqa: ANN001
    for payload in ("{not json", "[1,", "\x00"):
        response = slack.post(urllib.parse.urlencode({"payload": payload}))
        assert response.status_code == 400
