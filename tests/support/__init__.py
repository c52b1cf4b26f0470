"""What the tests share: a clock the test moves, free ports, an SMTP sink, certificates, the
database helpers, a fake of Slack's Web API and signed requests, and factories that put
connections into a given state through the real services. Fixtures (``tests/conftest.py``) are
built from these; tests import them from here, never from another test file."""

from tests.support.certs import certificate
from tests.support.clock import FakeClock
from tests.support.db import IN_CI, POSTGRES_URL
from tests.support.net import free_port
from tests.support.settings import MAIL_KEYS
from tests.support.slack import SLACK_SECRET, FakeSlack, SlackClient
from tests.support.smtp import SinkHandler

__all__ = ["IN_CI", "MAIL_KEYS", "POSTGRES_URL", "SLACK_SECRET", "FakeClock", "FakeSlack", "SinkHandler",
           "SlackClient", "certificate", "free_port"]
