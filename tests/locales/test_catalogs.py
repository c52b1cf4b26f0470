"""Both languages, always: every message in the code has an Indonesian translation that is not
fuzzy and keeps the same placeholders; the catalogs load without a compile step."""

from __future__ import annotations

import datetime as dt
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tautan.core.errors import InvalidTransition, TautanError, UserError
from tautan.core.i18n import normalize_locale, translator
from tautan.core.model import Status
from tautan.core.transitions import ACTION_LABELS, STATUS_LABELS, Action
from tautan.core.views import VIA_LABELS
from tautan.locales.update import KEYWORDS

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "locales"


def _keywords() -> dict[str, object]:
    keywords: dict[str, object] = {}
    for spec in KEYWORDS:
        name, _, args = spec.partition(":")
        keywords[name] = tuple(int(a) for a in args.split(",")) if args else None
    return keywords


def code_messages() -> dict[str, str]:
    """msgid -> where it is used, straight from the source (not from the .pot)."""
    found: dict[str, str] = {}
    method_map = [(f"{package}/**.py", "python") for package in ("core", "app", "mail", "bot")]
    method_map += [("mail/templates/**.html", "jinja2"), ("mail/templates/**.txt", "jinja2")]
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map=method_map, keywords=_keywords()):
        for msgid in (message if isinstance(message, tuple) else (message,)):
            if msgid:
                found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def catalog(locale: str):  # noqa: ANN201
    with open(LOCALES / locale / "LC_MESSAGES" / "messages.po", "rb") as fp:
        return read_po(fp, locale=locale)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_code_has_messages() -> None:
    messages = code_messages()
    assert len(messages) > 100
    assert any(where.startswith("mail/templates/") for where in messages.values()), "templates are read too"


@pytest.mark.parametrize("locale", ["en", "id"])
def test_every_message_of_the_code_is_in_the_catalog(locale: str) -> None:
    ids = {msgid for m in catalog(locale) if m.id for msgid in ((m.id,) if isinstance(m.id, str) else m.id)}
    missing = {msgid: where for msgid, where in code_messages().items() if msgid not in ids}
    assert not missing, f"run `python -m locales.update` and translate: {missing}"


def test_indonesian_is_complete_not_fuzzy_and_keeps_placeholders() -> None:
    problems = []
    for message in catalog("id"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        if not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        for text in strings:
            if placeholders(text) != placeholders(ids[0]):
                problems.append(f"placeholders differ: {ids[0]!r} -> {text!r}")
    assert not problems, "\n".join(problems)


def test_indonesian_is_formal() -> None:
    """Business register: the reader is *Anda*, never *kamu*/*kau*/*lu*."""
    informal = re.compile(r"\b(kamu|kau|lu|lo|gue|elo|dong|nggak|gak)\b", re.IGNORECASE)
    offenders = [m.string for m in catalog("id") if m.id and isinstance(m.string, str)
                 and informal.search(m.string)]
    assert not offenders


# "Tautan" is the brand and the everyday Indonesian word for "link". The brand is always written
# with a capital; the word is written in lower case and only where it plainly means the link: with
# one of these words after it. Anything else reads as "via a link", the wording of phishing mail.
LINK_QUALIFIERS = frozenset({
    "undangan", "ini", "itu", "tersebut", "berikut", "baru", "di", "dalam", "pada", "yang", "masuk",
    "konfirmasi", "pendaftaran", "permintaan", "email", "halaman", "web", "bergabung",
})
# The command is called tautan: "tautan show 12", "'tautan --help'" are commands, not prose.
COMMAND_WORDS = frozenset({"show", "db", "--help", "list", "invite", "import", "resend", "cancel", "approve",
                           "deny", "disconnect", "company", "link", "status", "serve", "web", "worker", "demo"})
WORD = re.compile(r"\b(tautan)\b(?:\s+(\S+))?", re.IGNORECASE)


def brand_problems(text: str) -> list[str]:
    """Where ``text`` (an Indonesian msgstr) lets the brand read as the word, or the word as the brand."""
    problems = []
    for match in WORD.finditer(text):
        word, following = match.group(1), (match.group(2) or "").strip(".,;:!?\"'()").lower()
        if word == "Tautan":
            # The brand, or the word opening a sentence ("Tautan ini ..."): both read right.
            continue
        if word != "tautan":
            problems.append(f"{word!r} is neither the brand (Tautan) nor the word (tautan)")
        elif following in COMMAND_WORDS:
            continue
        elif following not in LINK_QUALIFIERS:
            problems.append(f"lower-case 'tautan {following}' reads as the brand: write 'Tautan' for the "
                            f"name, or say which link ('tautan undangan', 'tautan ini', ...)")
    return problems


def test_the_brand_rule_catches_what_it_should() -> None:
    assert brand_problems("Pesan dari PT Maju melalui Tautan.") == []
    assert brand_problems("Buka tautan undangan, atau tautan berikut.") == []
    assert brand_problems("Tautan ini sudah kedaluwarsa.") == []
    assert brand_problems("Lihat kembali dengan: tautan show 12") == []
    assert brand_problems("PT Maju mengundang Anda melalui tautan.")
    assert brand_problems("terhubung di tautan")
    assert brand_problems("Koneksi Anda di tautan:")
    assert brand_problems("sistem TAUTAN")


def test_indonesian_writes_the_brand_as_a_name() -> None:
    offenders = {}
    for message in catalog("id"):
        if not message.id:
            continue
        for text in (message.string if isinstance(message.string, tuple) else (message.string,)):
            problems = brand_problems(text or "")
            if problems:
                offenders[text] = problems
    assert not offenders


def test_english_writes_the_brand_as_a_name() -> None:
    """The msgids too: the brand is Tautan; lower case only for the command (``tautan show 12``)."""
    offenders = [msgid for msgid in code_messages() for match in WORD.finditer(msgid)
                 if match.group(1) != "Tautan" and (match.group(2) or "").strip("'\".,") not in COMMAND_WORDS]
    assert not offenders


def test_the_channels_of_history_are_told_apart() -> None:
    """"via the link" and "by Tautan itself" must not read the same in Indonesian history lines."""
    id_ = translator("id")
    vias = [id_(label) for label in VIA_LABELS.values()]
    assert len(set(vias)) == len(vias)
    assert "tautan" not in vias and "Tautan" not in vias


def test_no_obsolete_or_stale_entries() -> None:
    """Entries the code no longer uses are removed, so translators never work on dead text."""
    used = set(code_messages())
    stale = [m.id for m in catalog("id") if m.id and not set((m.id,) if isinstance(m.id, str) else m.id) & used]
    assert not stale


def test_translator_uses_the_catalog_and_fills_placeholders() -> None:
    id_ = translator("id-ID")
    assert id_.locale == "id"
    error = InvalidTransition(status=STATUS_LABELS[Status.CONNECTED], action=ACTION_LABELS[Action.ACCEPT])
    assert id_.error(error) == "Tindakan \u201csetujui\u201d tidak dapat dilakukan pada koneksi berstatus terhubung."
    assert translator("en").error(error) == "You cannot accept a connection that is connected."
    assert translator("fr").locale == "en"


def test_every_error_message_is_translated() -> None:
    classes, stack = [], [TautanError]
    while stack:
        cls = stack.pop()
        classes.append(cls)
        stack.extend(cls.__subclasses__())
    id_ = translator("id")
    for cls in classes:
        assert id_.gettext(cls.message_id) != cls.message_id, cls


def test_lists_dates_and_numbers_follow_the_locale() -> None:
    when = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.timezone.utc)
    assert translator("en").date(when) == "March 2, 2026"
    assert translator("id").date(when) == "2 Maret 2026"
    assert translator("id").number(1234567.5) == "1.234.567,5"
    assert translator("en").number(1234567.5) == "1,234,567.5"
    assert translator("id").list(["pesanan", "faktur"]) == "pesanan dan faktur"
    assert translator("en").list(["order", "invoice", "catalog"]) == "order, invoice, and catalog"


@pytest.mark.parametrize(("tag", "expected"), [
    ("id", "id"), ("id-ID", "id"), ("id_ID.UTF-8", "id"), ("in", "id"), ("in_ID", "id"),
    ("en-GB", "en"), ("en_US.UTF-8", "en"), ("C", "en"), ("POSIX", "en"), ("", "en"), (None, "en"),
    ("fi-FI", "en"), ("xx-??", "en"),
])
def test_locale_tags(tag: str | None, expected: str) -> None:
    assert normalize_locale(tag) == expected


def test_user_errors_keep_their_parameters() -> None:
    error = UserError("{a} and {b}", a=1, b="x")
    assert error.params == {"a": 1, "b": "x"} and str(error) == "1 and x"
