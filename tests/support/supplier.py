"""Signing a supplier contact in to the supplier page through the real pages, for the HTTP and
browser tests: ask for a link, read the nonce the outbox holds, open the link, press the button."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from tautan.core.model import Outbox
from tautan.mail.links import sign_in_url


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def last_sign_in_nonce(engine: Engine, email: str) -> str | None:
    with Session(engine) as session:
        row = session.scalars(select(Outbox).where(Outbox.kind == "sign_in", Outbox.recipient == email)
                              .order_by(Outbox.id.desc()).limit(1)).first()
        return str(row.payload["nonce"]) if row is not None else None


def ask_for_link(client: TestClient, email: str) -> str:
    csrf = csrf_of(client.get("/s").text)
    response = client.post("/s", data={"csrf": csrf, "email": email})
    assert response.status_code == 200, response.text
    return response.text


def link_for(engine: Engine, keys: Sequence[str], base: str, email: str) -> str:
    nonce = last_sign_in_nonce(engine, email)
    assert nonce, f"no sign-in link was queued for {email}"
    return sign_in_url(base, keys, nonce)


def sign_in(client: TestClient, engine: Engine, keys: Sequence[str], base: str, email: str) -> None:
    ask_for_link(client, email)
    url = link_for(engine, keys, base, email)
    page = client.get(url)
    assert page.status_code == 200, page.text
    response = client.post(url, data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/s/connections", response.text
