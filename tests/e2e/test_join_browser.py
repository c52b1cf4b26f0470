"""The sign-up pages in a real browser (Debian's Chromium through Playwright), in both languages,
checked with axe-core: the directory, the join form, the emailed link, the confirmation. axe-core
comes from the CI's cache folder (.ci/run installs it); missing, the test fails under CI and is
skipped locally."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tautan.core import services
from tautan.core.model import Outbox
from tautan.wiring import Container
from tests.support import IN_CI
from tests.support import factories as f
from tests.support.live import live_server as running

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/lib/chromium/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]
AXE = Path(__file__).resolve().parents[2] / ".ci" / "node_modules" / "axe-core" / "axe.min.js"
# Where to keep the screenshots for a person to look at (a temporary folder when unset).
SHOTS = os.environ.get("TAUTAN_SCREENSHOTS")
HEADINGS = {"en": ("Find a customer", "Connect with", "Check your mailbox", "Request sent"),
            "id": ("Cari pelanggan", "Terhubung dengan", "Periksa kotak masuk Anda", "Permintaan terkirim")}


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI must run the browser test)")
    pytest.skip(reason)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[tuple[str, Container]]:
    """The real ASGI app served by uvicorn in a background thread, on a fresh SQLite database."""
    with running(tmp_path, mail_domain="connect.example.id") as served:
        yield served


def accessible(page: Any, axe: str, what: str) -> None:  # noqa: ANN401
    page.add_script_tag(content=axe)
    result = page.evaluate("async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']})")
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
    assert problems == [], f"{what}: {problems}"


def last_link(container: Container) -> str:
    with container.uow() as uow:
        payload = uow.session.scalars(select(Outbox.payload).where(Outbox.kind == "request_confirm")
                                      .order_by(Outbox.id.desc())).first()
    assert payload is not None
    return str(payload["link"])


@pytest.mark.parametrize("lang", ["en", "id"])
def test_a_supplier_signs_up_in_a_real_browser(live_server: tuple[str, Container], tmp_path: Path, lang: str) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"no Chromium at {CHROMIUM} (set CHROMIUM_PATH)")
    if not AXE.is_file():
        unavailable("axe-core is not installed (.ci/run installs it into .ci/node_modules)")
    axe = AXE.read_text()
    shots = Path(SHOTS) if SHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    base_url, container = live_server
    f.companies(container.uow())
    services.set_customer_profile(container.uow(), customer=f.CUSTOMER, listed=True, contact="ap@pelanggan.co.id",
                                  actor=f.ADMIN, via="cli")
    directory, joining, sent, done = HEADINGS[lang]

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            # axe is injected as a script: the pages' CSP rightly forbids that, so this context bypasses it
            context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True,
                                          locale="id-ID" if lang == "id" else "en-US")
            page = context.new_page()
            page.goto(f"{base_url}/join")
            assert page.inner_text("h1") == directory
            page.fill("#q", "pelanggan")
            with page.expect_navigation():
                page.press("#q", "Enter")
            accessible(page, axe, "directory")
            page.screenshot(path=str(shots / f"join-directory-{lang}.png"), full_page=True)
            with page.expect_navigation():
                page.click(f"text={f.CUSTOMER}")
            assert joining in page.inner_text("h1")
            accessible(page, axe, "join form")
            page.fill("#supplier_name", "CV Baru Sekali")
            page.fill("#email", "budi@cv-baru.co.id")
            page.check("input[name=types][value=order]")
            page.fill("#tax_id", "01.300.066.6-091.000")
            page.check("input[name=consent]")
            page.screenshot(path=str(shots / f"join-form-{lang}.png"), full_page=True)
            with page.expect_navigation():
                page.click("button[type=submit]")
            assert page.inner_text("h1") == sent
            accessible(page, axe, "sent")
            page.screenshot(path=str(shots / f"join-sent-{lang}.png"), full_page=True)

            page.goto(last_link(container))
            accessible(page, axe, "confirmation")
            page.screenshot(path=str(shots / f"join-confirm-{lang}.png"), full_page=True)
            assert services.search(container.uow(), company=f.CUSTOMER).total == 0
            with page.expect_navigation():
                page.click("button[type=submit]")
            assert page.inner_text("h1") == done
            accessible(page, axe, "request sent")
            page.screenshot(path=str(shots / f"join-done-{lang}.png"), full_page=True)
        finally:
            browser.close()

    found = services.search(container.uow(), company=f.CUSTOMER, statuses=["requested"])
    assert sorted(c.type for c in found.items) == ["invoice", "order"]
    assert {c.supplier for c in found.items} == {"CV Baru Sekali"}
