"""End to end in a real browser: the app under uvicorn on a free port, Debian's Chromium driven by
Playwright (no ``playwright install``: the system binary, ``CHROMIUM_PATH`` to override). Skipped
locally when Chromium or Playwright is missing; a failure under CI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tautan.core import services
from tautan.mail.links import invitation_url
from tautan.wiring import Container
from tests.support import IN_CI, factories
from tests.support.live import live_server as running

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/lib/chromium/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]
PHONE = {"width": 390, "height": 844}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI must run the browser test)")
    pytest.skip(reason)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[tuple[str, Container]]:
    """The real ASGI app served by uvicorn in a background thread, on a fresh SQLite database."""
    with running(tmp_path) as served:
        yield served


def test_a_supplier_accepts_in_a_real_browser(live_server: tuple[str, Container], tmp_path: Path) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"no Chromium at {CHROMIUM} (set CHROMIUM_PATH)")
    base_url, container = live_server
    factories.companies(container.uow())
    invitation = factories.invite(container.uow(), types=("order", "invoice"), lang="en",
                                  message="We would like to receive your invoices electronically.")
    link = invitation_url(base_url, container.settings.secret_keys, invitation.id, invitation.reply_token)
    shot = tmp_path / "invitation.png"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=PHONE, locale="en-US")
            page.goto(link)
            assert "invites you to connect" in page.inner_text("h1")
            page.screenshot(path=str(shot), full_page=True)
            with page.expect_navigation():
                page.click("button[value=accept]")
            assert f"You are now connected with {factories.CUSTOMER}" in page.inner_text("main")
            assert page.url == link  # post/redirect/get: a reload shows the result, posts nothing
        finally:
            browser.close()

    assert services.get_invitation(container.uow(), invitation_id=invitation.id).status == "accepted"
    data = shot.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 5_000
