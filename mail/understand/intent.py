"""What the new text of a reply asks for: accept, decline, help, status or unclear."""

from __future__ import annotations

import re
import unicodedata

from tautan.mail.understand.verdict import Intent, Language

_NEGATORS = (
    r"not|never|don'?t|do not|doesn'?t|does not|didn'?t|can'?t|cannot|can not|won'?t|will not|"
    r"wouldn'?t|would not|couldn'?t|could not|unable to|not able to|no longer|"
    r"tidak|tdk|tak|gak|ga|gk|nggak|ngga|nggk|enggak|engga|ndak|belum|blm|bukan|jangan|kurang"
)
_ACCEPT_STRONG = {
    "en": r"accept(?:s|ed|ing)?|agree(?:s|d)?|(?:i|we) (?:approve|confirm)|sounds good|go ahead|"
          r"let'?s connect|happy to connect|glad to connect|please connect|we'?re in|i'?m in|count us in",
    "id": r"setuju|disetujui|menyetujui|terima|diterima|menerima|bersedia|sepakat|"
          r"lanjut(?:kan)?|silakan (?:dihubungkan|disambungkan|lanjut)|oke deh|ok deh",
}
_DECLINE_STRONG = {
    "en": r"declin(?:e|es|ed|ing)|reject(?:s|ed|ing)?|refuse[sd]?|not interested|no,? thanks?|"
          r"no thank you|not now|not at this time|unsubscribe|no longer",
    "id": r"tolak|tolong tolak|menolak|ditolak|tidak tertarik|tdk tertarik|gak tertarik|nggak tertarik|"
          r"tidak bisa|tdk bisa|gak bisa|ga bisa|nggak bisa|belum bisa|blm bisa|tidak mau|gak mau|"
          r"nggak mau|tidak perlu|tidak usah|gak usah|nggak usah|tidak dulu|"
          r"tidak bersedia|belum bersedia",
}
_ACCEPT_WEAK = {
    "en": {"yes", "yeah", "yep", "yup", "sure", "ok", "okay", "okey", "k", "alright", "fine", "agreed",
           "accepted", "approve", "approved", "confirm", "confirmed", "absolutely", "definitely", "certainly"},
    "id": {"ya", "iya", "iyaa", "iyah", "yaa", "yoi", "oke", "okee", "okeh", "okey", "oce", "baik",
           "siap", "sip", "boleh", "bisa", "mau", "mantap", "setuju", "terima", "diterima", "lanjut", "gas"},
}
_DECLINE_WEAK = {
    "en": {"no", "nope", "nah", "declined", "rejected"},
    "id": {"tidak", "tdk", "tak", "gak", "ga", "gk", "nggak", "ngga", "enggak", "engga", "ndak", "belum",
           "blm", "jangan", "ditolak", "tolak"},
}
# Words that may stand next to a one-word answer without changing it.
_FILLERS = {
    "please", "pls", "plz", "sir", "madam", "thanks", "thank", "you", "so", "much", "very", "indeed",
    "of", "course", "then", "i", "we", "dong", "deh", "kok", "lah", "kak", "pak", "bu", "bapak", "ibu",
    "mas", "mbak", "sudah", "udah", "saja", "aja", "ya", "yah", "nih", "sih", "kami", "saya", "silakan",
    "silahkan", "sekali", "banget", "tentu", "tentunya", "sangat", "betul", "benar", "bener",
    "and", "dan", "go", "ahead",
}
_NOISE = re.compile(
    r"\b(?:terima\s*kasih(?:\s+banyak)?(?:\s+atas\s+\w+(?:\s+\w+)?)?(?:nya)?|trima\s*kasih|terimakasih|makasih|"
    r"matur\s+nuwun|thanks?(?:\s+(?:so|very)\s+much)?(?:\s+for\s+(?:the|your)\s+\w+)?|"
    r"thank\s+you(?:\s+(?:so|very)\s+much)?(?:\s+for\s+(?:the|your)\s+\w+)?|thx|tq|tks|trims|"
    r"no\s+problem|no\s+worries|tidak\s+masalah|tidak\s+apa[- ]?apa|gak\s+apa[- ]?apa|"
    r"(?:sudah|telah|udah)\s+(?:kami|saya)?\s*terima|received|noted|best\s+regards|kind\s+regards|regards|"
    r"salam(?:\s+hangat|\s+sejahtera|\s+kenal)?|hormat\s+(?:kami|saya)|dengan\s+hormat|"
    r"selamat\s+(?:pagi|siang|sore|malam)|good\s+(?:morning|afternoon|evening)|"
    r"hi|hello|hallo|halo|hai|dear|yth)\b",
    re.I,
)
_QUESTION_START = re.compile(
    r"^(?:apa|apakah|bagaimana|gimana|kenapa|mengapa|kapan|siapa|berapa|dimana|di mana|bisakah|"
    r"bolehkah|haruskah|perlukah|maksudnya|what|why|how|when|where|who|which|whom|whose|"
    r"(?:can|could|should|would|will|shall|may|must|do|does|did|is|are|am|was|were|have|has)\s+\w+\s+\w+)\b",
    re.I,
)
_HELP_WORDS = {"help", "bantuan", "bantu", "tolong", "minta", "butuh", "perlu", "need", "me", "us",
               "please", "pls", "mohon", "saya", "kami", "i", "we", "info", "informasi"}
_STATUS_WORDS = {"status", "cek", "check", "lihat", "please", "pls", "mohon", "undangan", "invitation",
                 "saya", "kami", "my", "our", "the", "what", "whats", "what's", "is", "apa", "bagaimana",
                 "gimana", "info", "koneksi", "connection", "request", "permintaan"}
_ID_WORDS = {
    "apa", "ini", "itu", "apakah", "yang", "dan", "saya", "kami", "tidak", "untuk", "dengan", "harus",
    "bayar", "bisa", "mohon", "terima", "kasih", "bapak", "ibu", "ada", "akan", "belum", "sudah", "dari",
    "ke", "di", "kalau", "bagaimana", "gimana", "maaf", "tolong", "dong", "ya", "halo", "salam", "selamat",
    "pagi", "siang", "sore", "malam", "setuju", "tolak", "bantuan", "undangan", "kapan", "siapa", "mengapa",
    "kenapa", "perusahaan", "kita", "anda", "nanti", "dulu", "juga", "atau", "pak", "bu", "baik", "iya",
    "oke", "cek", "mau", "perlu", "biaya", "gratis", "ingin", "tanya", "hormat",
}
_EN_WORDS = {
    "the", "is", "what", "this", "we", "i", "you", "can", "and", "to", "of", "please", "thanks", "thank",
    "hello", "hi", "do", "does", "how", "why", "need", "have", "our", "my", "it", "are", "be", "for",
    "with", "regards", "dear", "yes", "no", "accept", "decline", "help", "invitation", "who", "when",
    "will", "would", "should", "could", "not", "later", "about", "pay", "free", "cost", "company",
    "a", "an", "that", "know", "sorry", "best",
}


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'").replace("´", "'")
    # Emoji, symbols and other punctuation become spaces; sentence punctuation stays.
    text = "".join(ch if ch.isalnum() or ch in " \n'?,.!;:-" else " " for ch in text)
    return re.sub(r"[ \t]+", " ", text)


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+(?:['-][^\W_]+)*", text)


def _focus_lines(text: str) -> list[str]:
    """The first lines of the reply that carry words: where people put their answer."""
    lines = []
    for line in text.split("\n"):
        if line.strip():
            lines.append(line.strip())
        if len(lines) >= 8:
            break
    return lines


def _sentences(lines: list[str]) -> list[tuple[str, bool]]:
    """(sentence, is_question) pairs in order."""
    out: list[tuple[str, bool]] = []
    for line in lines:
        for match in re.finditer(r"[^.!?;]+[.!?;]*", line):
            piece = match.group(0)
            body = piece.strip(" .!?;")
            if not body.strip():
                if "?" in piece and out:
                    out[-1] = (out[-1][0], True)
                continue
            out.append((body.strip(), "?" in piece))
    return out


_ID_NEGATORS = frozenset(
    "tidak tdk tak gak ga gk nggak ngga nggk enggak engga ndak belum blm bukan jangan kurang".split()
)
_NEGATED_ACCEPT = re.compile(
    rf"\b({_NEGATORS})\s+(?:[\w']+\s+){{0,2}}?"
    rf"(?:{_ACCEPT_STRONG['en']}|{_ACCEPT_STRONG['id']}|bisa|mau|ikut|join|connect|want)\b"
)
_NEGATED_DECLINE = re.compile(rf"\b(?:{_NEGATORS})\s+(?:{_DECLINE_STRONG['en']}|{_DECLINE_STRONG['id']})\b")
_DECLINE_RE = {lang: re.compile(rf"\b(?:{words})\b") for lang, words in _DECLINE_STRONG.items()}
_ACCEPT_RE = {lang: re.compile(rf"\b(?:{words})\b") for lang, words in _ACCEPT_STRONG.items()}


def _clause_decision(clause: str) -> tuple[set[str], set[str]]:
    """The decisions ("accept", "decline", "mixed") a clause expresses, and the languages of
    the words that expressed them."""
    decisions: set[str] = set()
    languages: set[str] = set()
    rest = f" {clause} "
    if _NEGATED_DECLINE.search(rest):
        # "tidak menolak", "not declining": too subtle to act on.
        return {"mixed"}, languages
    # Negated acceptance ("tidak setuju", "can't accept", "belum bisa") is a decline.
    while (match := _NEGATED_ACCEPT.search(rest)) is not None:
        decisions.add("decline")
        languages.add("id" if match.group(1).split()[0] in _ID_NEGATORS else "en")
        rest = rest[: match.start()] + " " + rest[match.end():]
    for lang, pattern in _DECLINE_RE.items():
        while (match := pattern.search(rest)) is not None:
            decisions.add("decline")
            languages.add(lang)
            rest = rest[: match.start()] + " " + rest[match.end():]
    for lang, pattern in _ACCEPT_RE.items():
        while (match := pattern.search(rest)) is not None:
            decisions.add("accept")
            languages.add(lang)
            rest = rest[: match.start()] + " " + rest[match.end():]
    meaningful = [w for w in _words(rest) if w not in _FILLERS]
    weak_accept = [w for w in meaningful if w in _ACCEPT_WEAK["en"] or w in _ACCEPT_WEAK["id"]]
    weak_decline = [w for w in meaningful if w in _DECLINE_WEAK["en"] or w in _DECLINE_WEAK["id"]]
    # A bare "yes"/"ya"/"ok"/"no"/"tidak" only counts when it is the whole clause (give or take
    # "please", "pak", "dong"): "Tidak ada masalah" or "Ok I'll think about it" decide nothing.
    if meaningful and len(weak_accept) + len(weak_decline) == len(meaningful):
        for word in weak_accept:
            decisions.add("accept")
            languages.add(_language_of_word(word, _ACCEPT_WEAK))
        for word in weak_decline:
            decisions.add("decline")
            languages.add(_language_of_word(word, _DECLINE_WEAK))
    elif not meaningful and not decisions:
        # only fillers: "ya" and "sudah" are fillers elsewhere but an answer on their own
        bare = [w for w in _words(rest) if w in ("ya", "yah")]
        if bare:
            decisions.add("accept")
            languages.add("id")
    languages.discard("")
    return decisions, languages


def _language_of_word(word: str, table: dict[str, set[str]]) -> str:
    if word in ("ok", "okay", "okey", "k"):
        return ""  # used alike in both languages
    if word in table["id"] and word not in table["en"]:
        return "id"
    if word in table["en"] and word not in table["id"]:
        return "en"
    return ""


def _guess_language(text: str) -> Language | None:
    words = _words(_normalize(text))
    id_count = sum(1 for w in words if w in _ID_WORDS)
    en_count = sum(1 for w in words if w in _EN_WORDS)
    if id_count > en_count:
        return "id"
    if en_count > id_count:
        return "en"
    return None


def _single_language(languages: set[str], text: str) -> Language | None:
    if languages == {"id"}:
        return "id"
    if languages == {"en"}:
        return "en"
    return _guess_language(text)


def _keyword_request(words: list[str]) -> tuple[Intent, Language | None] | None:
    """HELP / BANTUAN / STATUS, when that is essentially the whole text."""
    if not words or len(words) > 6:
        return None
    words = [w for w in words if w not in _FILLERS or w in _HELP_WORDS or w in _STATUS_WORDS]
    if set(words) <= _HELP_WORDS and {"help", "bantuan", "bantu", "tolong"} & set(words):
        if {"help", "need", "me", "i", "we", "us", "please", "pls"} & set(words) and not (
            {"bantuan", "bantu", "tolong", "mohon", "saya", "kami", "minta", "butuh", "perlu"} & set(words)
        ):
            return "help", "en"
        if "help" in words:
            return "help", _guess_language(" ".join(words)) or "en"
        return "help", "id"
    if set(words) <= _STATUS_WORDS and "status" in words:
        language = None
        if {"cek", "lihat", "mohon", "undangan", "saya", "kami", "apa", "bagaimana", "gimana",
            "koneksi", "permintaan"} & set(words):
            language = "id"
        elif {"check", "please", "pls", "invitation", "my", "our", "the", "what", "whats", "what's", "is",
              "connection", "request"} & set(words):
            language = "en"
        return "status", language
    return None


def intent_of(text: str) -> tuple[Intent, Language | None]:
    """What the new text of a reply asks for, and in which language it is written.

    Reads the first lines, where people put their answer ("Setuju.\\n\\nSalam,\\nBudi"). "Terima
    kasih" is thanks, not acceptance; negations ("tidak setuju", "I can't accept") decline;
    questions, contradictions ("yes and no") and empty text are unclear."""
    if not text or not text.strip():
        return "unclear", None
    lines = _focus_lines(text)
    # HELP / STATUS: the first paragraph that says anything (a sign-off may follow it)
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        words = _words(_NOISE.sub(" ", _normalize(paragraph)))
        if words:
            request = _keyword_request(words)
            if request:
                return request
            break
    sentences = _sentences([_normalize(line) for line in lines[:6]])
    decided: str | None = None
    decided_languages: set[str] = set()
    seen_after = 0
    for sentence, question in sentences[:8]:
        cleaned = _NOISE.sub(" ", sentence)
        clauses = [c for c in re.split(r"[,:]| - | but | tapi | tetapi | namun ", cleaned) if c.strip()]
        decisions: set[str] = set()
        languages: set[str] = set()
        for clause in clauses:
            found, langs = _clause_decision(clause)
            decisions |= found
            languages |= langs
        is_question = question or bool(_QUESTION_START.match(cleaned.strip()))
        if decided is None:
            if not decisions:
                continue
            if is_question or "mixed" in decisions or len(decisions) > 1:
                return "unclear", _single_language(languages, text)
            decided = decisions.pop()
            decided_languages = languages
            continue
        # After the answer: a contradiction makes it unclear; questions and other talk do not.
        seen_after += 1
        if seen_after > 3:
            break
        if decisions and not is_question and (decisions - {decided}):
            return "unclear", _single_language(languages | decided_languages, text)
    if decided is None:
        return "unclear", _guess_language(" ".join(lines[:6]))
    intent: Intent = "accept" if decided == "accept" else "decline"
    return intent, _single_language(decided_languages, " ".join(lines[:3]))
