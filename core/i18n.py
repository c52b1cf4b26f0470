"""Translation and formatting for the reader's locale.

Catalogs are the gettext ``.po`` files in ``locales/``; they are read with Babel the first time a
locale is asked for, so a fresh clone works without a compile step. Message ids are the English
text, with ``{name}`` placeholders filled after translation.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

SUPPORTED_LOCALES = ("en", "id")
DEFAULT_LOCALE = "en"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it (translation happens at the edge)."""
    return message


def normalize_locale(tag: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Map a locale tag from anywhere (``id-ID``, ``id_ID.UTF-8``, ``in``, ``en-GB``) to a supported one."""
    if not tag:
        return default
    tag = tag.strip().split(".")[0].split("@")[0].replace("-", "_")
    if not tag or tag in ("C", "POSIX"):
        return default
    try:
        language = Locale.parse(tag).language
    except (ValueError, UnknownLocaleError):
        language = tag.split("_")[0].lower()
    if language == "in":  # the old ISO 639 code for Indonesian, still sent by some Java clients
        language = "id"
    return language if language in SUPPORTED_LOCALES else default


def is_supported(tag: str | None) -> bool:
    return bool(tag) and normalize_locale(tag, default="") != ""


@functools.cache
def _catalog(locale: str) -> NullTranslations:
    source = resources.files("tautan.locales").joinpath(locale, "LC_MESSAGES", f"{DOMAIN}.po")
    if not source.is_file():
        return NullTranslations()
    with source.open("rb") as fp:
        catalog = read_po(fp, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


@dataclass(frozen=True)
class Translator:
    """Everything the edge needs to speak to one reader: text, dates, numbers and lists."""

    locale: str

    def gettext(self, message_id: str, /, **params: Any) -> str:
        text = _catalog(self.locale).gettext(message_id)
        return text.format(**params) if params else text

    __call__ = gettext

    def ngettext(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        text = _catalog(self.locale).ngettext(singular, plural, n)
        return text.format(n=self.number(n), **params)

    def date(self, value: dt.date | dt.datetime, format: str = "long") -> str:
        return format_date(value, format=format, locale=self.locale)

    def datetime(self, value: dt.datetime, format: str = "medium", tzinfo: Any = None) -> str:
        return format_datetime(value, format=format, tzinfo=tzinfo, locale=self.locale)

    def moment(self, value: dt.datetime) -> str:
        """A point in time nobody can misread: "1 Des 2026 10.31 UTC", "Dec 1, 2026, 10:31 AM UTC".

        Babel's medium date with a short time (its medium datetime carries seconds) and the zone."""
        pattern = str(Locale.parse(self.locale).datetime_formats["medium"])
        text = pattern.replace("{1}", format_date(value, "medium", locale=self.locale)).replace(
            "{0}", format_time(value, "short", locale=self.locale))
        return f"{text} {value.tzname() or 'UTC'}"

    def number(self, value: float | int) -> str:
        return format_decimal(value, locale=self.locale)

    def list(self, items: Iterable[str]) -> str:
        return format_list(list(items), locale=self.locale)

    def error(self, error: Any) -> str:
        """The text of a ``core.errors.TautanError`` for this reader."""
        params = {k: self._param(v) for k, v in error.params.items()}
        return self.gettext(error.message_id, **params)

    def _param(self, value: Any) -> str:
        if isinstance(value, dt.datetime):
            return self.datetime(value)
        if isinstance(value, dt.date):
            return self.date(value)
        if isinstance(value, Label):
            return self.gettext(value.message_id)
        if isinstance(value, (list, tuple, frozenset, set)):
            return self.list(self._param(v) for v in value)
        return str(value)


@dataclass(frozen=True)
class Label:
    """A translatable word used as a parameter (a status, an action, a document type)."""

    message_id: str

    def __str__(self) -> str:
        return self.message_id


def translator(locale: str | None) -> Translator:
    return Translator(normalize_locale(locale))
