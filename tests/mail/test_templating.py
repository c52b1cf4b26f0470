"""Invitations are rendered once per language and shape, their texts filled in after
(templating.render_filled): the result is exactly what rendering each one gives, whatever the
names, messages and links hold (markup, quotes, line breaks, text that looks like a marker)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tautan.mail.compose as compose_module
from tautan.core.i18n import translator
from tautan.mail.compose import compose
from tautan.mail.templating import render, render_filled
from tests.mail.test_compose import CONFIG, NOW, TRICKY, invitation, item


def both(row, monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, bytes]:  # noqa: ANN001
    filled = compose(row, CONFIG, now=NOW).as_bytes()
    with monkeypatch.context() as patch:
        patch.setattr(compose_module, "INVITATION_TEXTS", ())
        rendered = compose(row, CONFIG, now=NOW).as_bytes()
    return filled, rendered


@pytest.mark.parametrize("name", [*TRICKY, "\ue0000\ue001", "PT \ue000", ""])
@pytest.mark.parametrize("kind", ["invitation", "reminder"])
@pytest.mark.parametrize("lang", ["en", "id"])
def test_filled_invitations_are_the_rendered_ones(name: str, kind: str, lang: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    view = invitation(customer=name or "PT X", supplier=name, message=name or None, lang=lang)
    for variant in (view, dataclasses.replace(view, inviter_name=name, inviter_email="budi@pelanggan.co.id",
                                              join_path="/join/x", message="Baris satu\nBaris <dua> & tiga")):
        filled, rendered = both(item(variant, kind), monkeypatch)
        assert filled == rendered


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=60), message=st.one_of(st.none(), st.text(max_size=200)),
       lang=st.sampled_from(["en", "id"]))
def test_any_text_fills_as_it_renders(name: str, message: str | None, lang: str,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    filled, rendered = both(item(invitation(customer=name, supplier=name, message=message, lang=lang)), monkeypatch)
    assert filled == rendered


def test_what_cannot_be_a_key_is_rendered_as_it_is() -> None:
    t = translator("en")
    context = dict(kind="answer_status", connections=["PT A: invoices, connected"], button=None,
                   supplier_page_url="https://tautan.example.id/s", subject="Re: x", customer="PT <A>",
                   email="ana@pt-maju.co.id")
    assert (render_filled("email/answer.html", t, {"customer", "email"}, **context)
            == render("email/answer.html", t, **context))
