"""The IMAP poller against a real Dovecot server (Debian's dovecot-imapd), started by the test in
a folder of its own. Without Dovecot the tests skip locally; under CI they fail instead."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from imapclient import IMAPClient

from tautan.core import services
from tautan.mail.imap import ImapPoller, envelope_of
from tautan.settings import Settings
from tautan.wiring import Container
from tests.support import IN_CI, free_port
from tests.support import factories as f

DOMAIN = "connect.example.id"
DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)

CONFIG = """instance_name = tautan-test-{port}
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {dir}/users
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  inet_listener http {{
    port = 0
  }}
}}
"""


@pytest.fixture(scope="session")
def dovecot() -> Iterator[int]:
    """A Dovecot IMAP server on a free port with the user ``test`` / ``testpass``."""
    if DOVECOT is None:
        if IN_CI:
            pytest.fail("dovecot is not installed (apt-get install dovecot-imapd)")
        pytest.skip("dovecot is not installed")
    folder = Path(tempfile.mkdtemp(prefix="tautan-dovecot-"))
    folder.chmod(0o755)  # the auth process (user dovecot) and imap (uid 65534) must get in
    (folder / "mail").mkdir()
    os.chown(folder / "mail", 65534, 65534)
    (folder / "users").write_text(f"test:{{PLAIN}}testpass:65534:65534::{folder}/mail/test\n")
    port = free_port()
    (folder / "dovecot.conf").write_text(CONFIG.format(dir=folder, port=port))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(folder / "dovecot.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    else:
        process.kill()
    if process.poll() is not None:
        log = (folder / "dovecot.log").read_text() if (folder / "dovecot.log").exists() else ""
        pytest.fail(f"dovecot did not start: {process.stderr.read().decode()[-2000:]} {log[-2000:]}")
    yield port
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def mailbox(dovecot: int) -> Iterator[IMAPClient]:
    client = IMAPClient("127.0.0.1", port=dovecot, ssl=False, timeout=10)
    client.login("test", "testpass")
    for folder in ("Processed", "Failed"):
        if client.folder_exists(folder):
            client.select_folder(folder)
            client.delete_messages(client.search())
            client.expunge()
    client.select_folder("INBOX")
    client.delete_messages(client.search())
    client.expunge()
    yield client
    client.logout()




def poller(container: Container, port: int, **kwargs: object) -> ImapPoller:
    return ImapPoller(f"imap://test:testpass@127.0.0.1:{port}/INBOX", container.inbound(), **kwargs)


def reply(token: str, body: str, *, message_id: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = "Ana <ana@pt-maju.co.id>"
    message["To"] = f"connect+{token}@{DOMAIN}"
    message["Delivered-To"] = f"connect+{token}@{DOMAIN}"
    message["Subject"] = "Re: PT Pelanggan Jaya mengundang Anda"
    message["Message-ID"] = message_id or make_msgid(domain="pt-maju.co.id")
    message.set_content(body)
    return message.as_bytes()


def folder_count(client: IMAPClient, folder: str) -> int:
    client.noop()  # let the server tell this connection what the poller's connection changed
    client.select_folder(folder, readonly=True)
    count = len(client.search())
    client.select_folder("INBOX")
    return count


def test_poll_stores_acts_and_files_messages(container, dovecot, mailbox) -> None:  # noqa: ANN001
    uow = container.uow()
    f.companies(uow)
    invitation = f.invite(uow)
    mailbox.append("INBOX", reply(invitation.reply_token, "Setuju, terima kasih."))
    mailbox.append("INBOX", b"From: x\r\nContent-Type: multipart/mixed\r\n\r\n--broken")  # not for us, still filed
    assert poller(container, dovecot).poll_once() == 2
    assert services.get_invitation(uow, invitation_id=invitation.id).status == "accepted"
    assert folder_count(mailbox, "INBOX") == 0
    assert folder_count(mailbox, "Processed") == 2


def test_the_same_message_fetched_twice_is_acted_on_once(container, dovecot, mailbox) -> None:  # noqa: ANN001
    uow = container.uow()
    f.companies(uow)
    invitation = f.invite(uow)
    message = reply(invitation.reply_token, "Setuju", message_id="<same@pt-maju.co.id>")
    mailbox.append("INBOX", message)
    poller(container, dovecot).poll_once()
    mailbox.append("INBOX", message)  # e.g. a crash before the move, or a copy
    poller(container, dovecot).poll_once()
    accepted = [e for e in services.history(uow, invitation_id=invitation.id) if e.kind == "accepted"]
    assert len(accepted) == 1 and folder_count(mailbox, "Processed") == 2


def test_a_database_outage_leaves_the_message_in_the_inbox(container, dovecot, mailbox, clock) -> None:  # noqa: ANN001
    uow = container.uow()
    f.companies(uow)
    invitation = f.invite(uow)
    mailbox.append("INBOX", reply(invitation.reply_token, "Setuju"))
    down = Container(Settings(database_url=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x",
                              mail_domain=DOMAIN))
    assert poller(down, dovecot).poll_once() == 0
    assert folder_count(mailbox, "INBOX") == 1  # nothing lost
    down.close()
    poller(container, dovecot).poll_once()
    assert folder_count(mailbox, "INBOX") == 0
    assert services.get_invitation(uow, invitation_id=invitation.id).status == "accepted"


def test_idle_picks_up_new_mail_and_reconnects(container, dovecot, mailbox) -> None:  # noqa: ANN001
    uow = container.uow()
    f.companies(uow)
    invitation = f.invite(uow)
    watcher = poller(container, dovecot, idle_seconds=30)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        time.sleep(1.0)  # connected and idling
        mailbox.append("INBOX", reply(invitation.reply_token, "Setuju"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if services.get_invitation(uow, invitation_id=invitation.id).status == "accepted":
                break
            time.sleep(0.2)
        assert services.get_invitation(uow, invitation_id=invitation.id).status == "accepted"
    finally:
        stop.set()
        thread.join(timeout=15)
    assert not thread.is_alive()


def test_a_server_that_is_down_is_retried(container) -> None:  # noqa: ANN001
    watcher = poller(container, free_port(), timeout=1)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run_forever, args=(stop,), daemon=True)
    thread.start()
    time.sleep(1.5)
    assert thread.is_alive()  # it keeps trying instead of dying
    stop.set()
    thread.join(timeout=15)
    assert not thread.is_alive()


def test_envelope_from_headers() -> None:
    token = "0123456789abcdef0123456789abcdef"
    raw = (f"Return-Path: <ana@pt-maju.co.id>\r\nDelivered-To: connect+{token}@{DOMAIN}\r\n"
           f"To: Someone <someone@else.example>, connect+{token}@{DOMAIN}\r\n\r\nhi").encode()
    envelope = envelope_of(raw, DOMAIN)
    assert envelope.mail_from == "ana@pt-maju.co.id"
    assert envelope.rcpt_tos == (f"connect+{token}@{DOMAIN}",)
    assert envelope_of(b"\xff\xfe garbage", DOMAIN).rcpt_tos == ()
    assert envelope_of(b"Return-Path: <>\r\n\r\nx", DOMAIN).mail_from == "<>"
    assert envelope_of(b"Subject: x\r\n\r\nx", DOMAIN).mail_from == ""
