"""Jinja2 for emails and pages. Templates get ``t`` (a ``core.i18n.Translator`` for the reader)
and call ``t("English text {name}", name=...)``; the text is translated, filled, then escaped by
autoescaping like any other value, so a supplier's name can never become markup."""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import escape

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
        # The templates are package files that do not change while the process runs: no stat()
        # of each one for every email and page.
        auto_reload=False,
    )
    return env


def render(name: str, t: Translator, **context: Any) -> str:
    return environment().get_template(name).render(t=t, lang=t.locale, **context)


# A text marked for filling in later: private-use characters no template or catalog contains.
_SLOT, _SLOT_END = "\ue000", "\ue001"
_SLOTS = re.compile(f"{_SLOT}([0-9]+){_SLOT_END}")


def render_filled(name: str, t: Translator, fill: Collection[str], /, **context: Any) -> str:
    """``render()`` for mail sent by the thousand: the template is rendered once for each
    language and shape of the context, with the texts named in ``fill`` as markers, which are
    then replaced by the texts (escaped where the template escapes).

    Only for texts a template prints and tests for emptiness, nothing else (no comparison, no
    filter, no method): every other value is part of what the rendering is cached for."""
    texts: list[str] = []
    shaped: list[tuple[str, object]] = []
    for key, value in context.items():
        if key in fill and isinstance(value, str) and value:
            shaped.append((key, f"{_SLOT}{len(texts)}{_SLOT_END}"))
            texts.append(value)
        elif isinstance(value, str) and _SLOT in value:
            return render(name, t, **context)  # a text that looks like a marker: rendered as it is
        else:
            shaped.append((key, value))
    try:
        pieces, slots = _rendered(name, t, tuple(shaped))
    except TypeError:  # a value that cannot be a cache key (a list): rendered as it is
        return render(name, t, **context)
    if environment().autoescape(name):  # type: ignore[operator]
        texts = [str(escape(text)) for text in texts]
    out = [pieces[0]]
    for slot, piece in zip(slots, pieces[1:], strict=True):
        out += (texts[slot], piece)
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _rendered(name: str, t: Translator,
              context: tuple[tuple[str, object], ...]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The rendering with markers, cut at them: the text around them, and which text goes where."""
    cut = _SLOTS.split(render(name, t, **dict(context)))
    return tuple(cut[::2]), tuple(int(slot) for slot in cut[1::2])
