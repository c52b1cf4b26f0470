"""Jinja2 for emails and pages. Templates get ``t`` (a ``core.i18n.Translator`` for the reader)
and call ``t("English text {name}", name=...)``; the text is translated, filled, then escaped by
autoescaping like any other value, so a supplier's name can never become markup."""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from tautan.core.i18n import Translator


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("tautan.mail", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def render(name: str, t: Translator, **context: Any) -> str:
    return environment().get_template(name).render(t=t, lang=t.locale, **context)
