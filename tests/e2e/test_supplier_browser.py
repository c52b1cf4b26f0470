"""The supplier page in a real browser at phone width (375 px), in English and Indonesian: sign in
from the emailed link, filter, accept one type of two, decline, reconnect, disconnect, read the
history and the contacts, sign out. axe-core checks every page state; a screenshot of each is kept.

axe-core comes from the npm package that ``.ci/run`` installs into ``.ci/node_modules``; it is
injected with the page's CSP bypassed in this browser context only (the app itself serves no
script). Skipped locally when Chromium, Playwright or axe-core is missing; a failure under CI."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tautan.core import services
from tautan.core.model import Role, Status
from tautan.core.transitions import Side
from tautan.mail.links import sign_in_url
from tests.support import IN_CI
from tests.support import factories as f
from tests.support.live import live_server
from tests.support.supplier import last_sign_in_nonce

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/lib/chromium/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]
PHONE = {"width": 375, "height": 812}
AXE = Path(__file__).resolve().parents[2] / ".ci" / "node_modules" / "axe-core" / "axe.min.js"
OTHER = "CV Sumber Rejeki"
THIRD = "PT Niaga Raya"

WORDS = {
    "en": {"inbox": "Check your inbox", "title": "Customer connections", "confirm": "Decline the invitation",
           "connected": "connected", "rejected": "rejected", "requested": "requested",
           "disconnected": "disconnected", "sign_in": "Sign in to your supplier page"},
    "id": {"inbox": "Periksa kotak masuk Anda", "title": "Koneksi pelanggan", "confirm": "Tolak undangan",
           "connected": "terhubung", "rejected": "ditolak", "requested": "diminta",
           "disconnected": "diputus", "sign_in": "Masuk ke halaman pemasok Anda"},
}


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI must run the browser test)")
    pytest.skip(reason)


def world(container: Any) -> dict[str, int]:
    """Ana's supplier: an open invitation for two types, a declined one, a live connection."""
    uow = container.uow()
    f.companies(uow)
    for name in (OTHER, THIRD):
        services.create_company(uow, name=name, roles=[Role.CUSTOMER], actor=f.ADMIN, via="cli")
    invitation = f.invite(uow, types=("catalog", "invoice"))
    declined = f.invite(uow, types=("order",), customer=OTHER)
    services.decline(uow, invitation_id=declined.id, actor=f.CONTACT, via="email")
    live = f.invite(uow, types=("invoice",), customer=THIRD)
    services.accept(uow, invitation_id=live.id, actor=f.CONTACT, via="email")
    catalog, invoice = (c.id for c in invitation.connections)
    return {"catalog": catalog, "invoice": invoice, "rejected": declined.connections[0].id,
            "connected": live.connections[0].id}


def check(page: Any, name: str, shots: Path) -> None:
    """No axe-core violation on this page state, and a screenshot of it."""
    page.add_script_tag(content=AXE.read_text())
    violations = page.evaluate("async () => (await axe.run(document)).violations"
                               ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))")
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    assert violations == [], f"{name}: {violations}"


def button(page: Any, connection_id: int, action: str) -> Any:
    return page.locator(f'form[action="/s/connections/{connection_id}"]:has(input[name=action][value={action}]) '
                        "button").first


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_supplier_page_in_a_phone_browser(tmp_path: Path, lang: str) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"no Chromium at {CHROMIUM} (set CHROMIUM_PATH)")
    if not AXE.is_file():
        unavailable(f"axe-core is not installed in {AXE.parent} (.ci/run installs it)")
    words = WORDS[lang]
    shots = tmp_path / "shots"
    shots.mkdir()

    with live_server(tmp_path) as (base_url, container), sync_playwright() as playwright:
        ids = world(container)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=PHONE, locale="en-US", bypass_csp=True)
            page = context.new_page()
            page.goto(f"{base_url}/s?lang={lang}")
            assert page.inner_text("h1") == words["sign_in"]
            check(page, f"{lang}-1-sign-in", shots)
            page.fill("input[name=email]", f.EMAIL)
            with page.expect_navigation():
                page.click("button[type=submit]")
            assert words["inbox"] in page.inner_text("h1")
            check(page, f"{lang}-2-check-inbox", shots)

            # The link from the email: one button (a scanner's GET uses nothing up), then the page.
            nonce = last_sign_in_nonce(container.engine, f.EMAIL)
            assert nonce
            page.goto(sign_in_url(base_url, container.settings.secret_keys, nonce))
            check(page, f"{lang}-3-continue", shots)
            with page.expect_navigation():
                page.click("form:has(input[name=csrf]) button.primary")
            assert page.url == f"{base_url}/s/connections"
            assert words["title"] in page.inner_text("h1")
            assert page.locator("section.group").count() == 3
            check(page, f"{lang}-4-connections", shots)

            # Filter by customer name: bookmarkable query parameters.
            page.fill("input[name=customer]", "sumber")
            with page.expect_navigation():
                page.click("form.filters button")
            assert "customer=sumber" in page.url and page.locator("section.group").count() == 1
            check(page, f"{lang}-5-filtered", shots)
            page.goto(f"{base_url}/s/connections")

            # Accept invoices but not the catalog.
            with page.expect_navigation():
                button(page, ids["invoice"], "accept").click()
            with page.expect_navigation():
                button(page, ids["catalog"], "decline").click()
            assert words["confirm"] in page.inner_text("h1")
            check(page, f"{lang}-6-confirm-decline", shots)
            with page.expect_navigation():
                page.click("form:has(input[name=confirm]) button[type=submit]")
            assert page.url.startswith(f"{base_url}/s/connections")

            # Ask the customer that was declined again.
            with page.expect_navigation():
                button(page, ids["rejected"], "request").click()

            # End the live connection, with a reason.
            with page.expect_navigation():
                button(page, ids["connected"], "disconnect").click()
            page.fill("textarea[name=reason]", "Kontrak selesai.")
            check(page, f"{lang}-7-confirm-disconnect", shots)
            with page.expect_navigation():
                page.click("form:has(input[name=confirm]) button[type=submit]")
            check(page, f"{lang}-8-after-actions", shots)

            page.goto(f"{base_url}/s/connections/{ids['connected']}")
            assert "Kontrak selesai." in page.inner_text("main")
            assert "email:" not in page.content() and "slack:" not in page.content()
            check(page, f"{lang}-9-history", shots)
            page.goto(f"{base_url}/s/contacts")
            check(page, f"{lang}-10-contacts", shots)

            with page.expect_navigation():
                page.click("nav.snav button")
            assert page.url == f"{base_url}/s"
            page.goto(f"{base_url}/s/connections")
            check(page, f"{lang}-11-signed-out", shots)
        finally:
            browser.close()

        statuses = {c.id: c.status for c in services.search(container.uow(), company=f.SUPPLIER,
                                                               side=Side.SUPPLIER).items}
    assert statuses[ids["invoice"]] == Status.CONNECTED and statuses[ids["catalog"]] == Status.REJECTED
    assert statuses[ids["rejected"]] == Status.REQUESTED and statuses[ids["connected"]] == Status.DISCONNECTED
    keep = os.environ.get("TAUTAN_SCREENSHOTS")
    if keep:  # for a person to look at
        shutil.copytree(shots, Path(keep), dirs_exist_ok=True)
