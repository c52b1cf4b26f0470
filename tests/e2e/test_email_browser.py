"""The invitation email's HTML part in Debian's Chromium, at a phone's width and a desktop's, in
both languages and in dark mode: layout facts (the button's box, no sideways scrolling, the card's
width), not pixels. Set ``EMAIL_SHOTS=DIR`` to keep the screenshots for a look."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import pytest

from tautan.core.outbox import OutboxItem
from tautan.core.views import ConnectionView, InvitationView
from tautan.mail.compose import MailConfig, compose
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, unavailable

NOW = dt.datetime(2026, 12, 1, 10, 31, tzinfo=dt.timezone.utc)
CONFIG = MailConfig(mail_domain="connect.example.id", mail_from="undangan@connect.example.id",
                    public_base_url="https://tautan.example.id", secret_keys=("k1",))


def invitation_html(lang: str) -> str:
    connections = tuple(
        ConnectionView(id=i, customer_id=1, customer="PT Pelanggan Jaya", supplier_id=2, supplier="PT Maju Jaya",
                       type=code, status="invited", invitation_id=7, created_at=NOW, updated_at=NOW)
        for i, code in enumerate(("order", "invoice"), start=1))
    view = InvitationView(
        id=7, customer_id=1, customer="PT Pelanggan Jaya", customer_root="PT Pelanggan Jaya", unit=None,
        supplier_id=2, supplier="PT Maju Jaya", email="ana@pt-maju.co.id", lang=lang,
        message="Mohon bergabung sebelum akhir bulan.", inviter="slack:T1/U2",
        reply_token="0123456789abcdef0123456789abcdef", status="pending", created_at=NOW, invited_at=NOW,
        expires_at=NOW + dt.timedelta(days=30), closed_at=None, last_sent_at=None, reminders_sent=0,
        connections=connections)
    view = dataclasses.replace(view, inviter_name="Budi Santoso", inviter_email="budi@pelanggan.co.id")
    item = OutboxItem(id=3, channel="email", kind="invitation", recipient=view.email, lang=lang, attempts=1,
                      created_at=NOW, invitation=view)
    return str(compose(item, CONFIG, now=NOW).message.get_body(("html",)).get_content())


LAYOUT = """() => {
  const a = document.querySelector('td.button a');
  const box = a.getBoundingClientRect();
  const card = document.querySelector('table.card').getBoundingClientRect();
  const pre = document.body.firstElementChild.getBoundingClientRect();
  return {button: {x: box.x, y: box.y, width: box.width, height: box.height},
          card: {x: card.x, width: card.width},
          scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          preheaderHeight: pre.height, plainLink: !!document.querySelector('a.link'),
          cardBackground: getComputedStyle(document.querySelector('table.card')).backgroundColor,
          ink: getComputedStyle(document.querySelector('td.ink')).color};
}"""


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_invitation_email_lays_out_at_phone_and_desktop_widths(lang: str, tmp_path: Path) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"no Chromium at {CHROMIUM} (set CHROMIUM_PATH)")
    html = invitation_html(lang)
    shots = Path(os.environ.get("EMAIL_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    facts = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for width, scheme in ((375, "light"), (800, "light"), (375, "dark")):
                page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
                page.set_content(html)
                facts[width, scheme] = page.evaluate(LAYOUT)
                page.screenshot(path=str(shots / f"invitation-{lang}-{width}-{scheme}.png"), full_page=True)
                page.close()
        finally:
            browser.close()

    for (width, _), seen in facts.items():
        assert seen["scrollWidth"] <= seen["innerWidth"] == width, "no sideways scrolling"
        button = seen["button"]
        assert button["height"] >= 40 and button["width"] >= 120, "a button a thumb can hit"
        assert button["x"] >= 0 and button["x"] + button["width"] <= width
        assert seen["preheaderHeight"] == 0 and seen["plainLink"]
    # The card fills a phone (less the margins) and stays a readable 560 px on a desktop.
    assert facts[375, "light"]["card"]["width"] == pytest.approx(375 - 24, abs=1)
    assert facts[800, "light"]["card"]["width"] == pytest.approx(560, abs=1)
    assert facts[800, "light"]["button"]["x"] > 200, "the button is centred"
    # Dark mode: a dark card with light text, not white text on white or black on black.
    light, dark = facts[375, "light"], facts[375, "dark"]
    assert light["cardBackground"] == "rgb(255, 255, 255)" and dark["cardBackground"] != light["cardBackground"]
    assert dark["ink"] == "rgb(230, 233, 237)"
