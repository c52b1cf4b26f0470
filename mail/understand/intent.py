"""What the new text of a reply asks for, read as clauses rather than keywords.

The procedure, in order (each step names the signals it finds, so a reading can be explained):

1. Normalise (case, apostrophes, emoji to ``emojiyes``/``emojino``) and keep the lines above the
   first closing line ("Salam,", "Best regards"): what follows is a signature or a tagline.
2. Fold phrases and spellings into tokens (``lexicon.PHRASES``, ``lexicon.SPELLING``), split into
   sentences (. ! ? ; new lines) and clauses (commas, and before "but/tapi", "if/kalau", "before",
   "after"...), and give every word a concept (``lexicon.WORDS``, else the concept of its
   Indonesian root from the Sastrawi stemmer, ``lexicon.ROOTS``).
3. In each clause, a negator turns the next decision word of *that clause* around ("tidak setuju"
   declines, "tidak keberatan" and "no objection" accept, "tidak menolak" only leans to accept);
   a decision inside a clause that starts with a condition or "before" is hypothetical and never
   counts ("Kalau setuju, apa ...", "before we accept").
4. Across clauses: two opposite decisions are a contradiction (unclear) unless they name
   different document types (a partial answer); a deferral or a consultation ("dulu", "nanti",
   "check with", "diskusikan") means not decided yet (unclear), as does a decision in a question;
   a condition, a question elsewhere, a "but" after a yes, slang, emoji, a lean or a partial
   answer mean "confirm" (ask before acting). Only a strong decision with none of these acts.

``understand(text, subject=...)`` returns an ``Understanding`` with the outcome, the lean, the
document types and the signals; ``intent_of(text)`` is the short form ``(intent, language)``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from tautan.mail.understand import lexicon
from tautan.mail.understand.verdict import Intent, Language

Lean = Literal["accept", "decline"]


@dataclass(frozen=True)
class Understanding:
    """One reading of a reply's new text.

    ``intent`` is what tautan may do: ``accept``/``decline`` act, ``confirm`` asks the supplier
    to confirm ``lean`` first, ``unclear`` answers with the link, ``help``/``status`` answer.
    ``types`` are the document types the answer names for ``lean`` (empty: all of them),
    ``other_types`` those it names for the opposite, ``only`` whether the types not named go the
    other way ("invoices only"). ``signals`` name what the reader saw (``negation``,
    ``condition``, ``question``, ``contrast``, ``deferral``, ``discussion``, ``contradiction``,
    ``partial``, ``slang``, ``emoji``, ``subject``...). ``yes_no`` is set for a short, bare
    "yes"/"no" (the answer to a confirmation question)."""

    intent: Intent
    language: Language | None
    lean: Lean | None = None
    types: tuple[str, ...] = ()
    other_types: tuple[str, ...] = ()
    only: bool = False
    signals: tuple[str, ...] = ()
    yes_no: Literal["yes", "no"] | None = None
    firm: bool = False  # a strong answer whose only doubt is the types it names


@dataclass
class _Clause:
    words: list[str]
    concepts: list[str]
    marker: str = ""  # the connector that opened it: COND, BEFORE, AFTER, CONTRAST or ""
    question: bool = False


@dataclass
class _Decision:
    lean: Lean
    strong: bool
    clause: int
    types: set[str] = field(default_factory=set)


_CONNECTORS = frozenset(("COND", "BEFORE", "AFTER", "CONTRAST", "AND"))
_PARTICLES = frozenset(("YES", "YESW", "NO", "NEG", "THANKS", "DEFER", "NOW", "DECW", "RECEIVED"))
_PHRASES = [(re.compile(pattern), token) for pattern, token in lexicon.PHRASES] + [
    (re.compile(r"\b(?:dont|didnt|doesnt|isnt|arent|wasnt|werent|havent|hasnt|wouldnt|couldnt|shouldnt|"
                r"cant|wont)\b"), " not "),
    (re.compile(r"\bnot mind\b"), " not objection "),
]
_PASSED_ON = frozenset(("to", "along", "it", "the", "them", "your", "over", "by"))
_WORD = re.compile(r"[\w'-]+")
# Only words that look affixed are worth the stemmer's time (it tries every affix combination).
_AFFIXED = re.compile(r"^(?:me|di|ber|be|ter|pe|ke|se)|(?:kan|an|i|nya|lah)$")


@functools.lru_cache(maxsize=1)
def _stemmer() -> object:
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory  # ~30 ms to build: only when needed

    return StemmerFactory().create_stemmer()


@functools.lru_cache(maxsize=8192)
def _concept(word: str) -> str:
    if word in lexicon.WORDS:
        return lexicon.WORDS[word]
    if 4 < len(word) <= 20 and word.isascii() and word.isalpha() and _AFFIXED.search(word):
        root = str(_stemmer().stem(word))  # type: ignore[attr-defined]
        entry = lexicon.ROOTS.get(root)
        if entry is not None and (not entry[1] or entry[1] in word):
            return entry[0]
    return ""


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    for pattern, token in lexicon.EMOJI:
        text = pattern.sub(token, text)
    text = text.casefold().replace("’", "'").replace("‘", "'").replace("`", "'").replace("´", "'")
    text = text.replace("—", " - ").replace("–", " - ")
    # Other symbols become spaces; sentence punctuation stays.
    text = "".join(ch if ch.isalnum() or ch in " \n'?,.!;:-_" else " " for ch in text)
    return re.sub(r"[ \t]+", " ", text)


def _focus(text: str) -> list[str]:
    """The lines above the first closing line ("Salam,", "Best regards"): the answer is there."""
    lines: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        if lines and lexicon.CLOSING.match(stripped):
            break
        lines.append(stripped[:400])  # the answer is in a sentence, not in a 100 kB line
        if len(lines) >= 12:
            break
    return lines


def _fold(line: str) -> str:
    words = [lexicon.SPELLING.get(w, w) for w in re.split(r"(\s+|[.!?;,:])", line)]
    line = "".join(words)
    for pattern, token in _PHRASES:
        line = pattern.sub(token, line)
    return line


def _clauses(lines: list[str]) -> list[_Clause]:
    out: list[_Clause] = []
    for line in lines:
        folded = _fold(" " + line + " ")
        for match in re.finditer(r"[^.!?;]+[.!?;]*", folded):
            sentence = match.group(0)
            question = "?" in sentence
            pieces = re.split(r"[,:]| - ", sentence.strip(" .!?;"))
            sentence_clauses: list[_Clause] = []
            for piece in pieces:
                current = _Clause([], [])
                for word in _WORD.findall(piece):
                    word = word.strip("'-")
                    if not word:
                        continue
                    concept = _concept(word)
                    if concept in _CONNECTORS and current.words:
                        sentence_clauses.append(current)
                        current = _Clause([], [])
                    if concept in _CONNECTORS and not current.words:
                        current.marker = concept
                        continue
                    current.words.append(word)
                    current.concepts.append(concept)
                if current.words or current.marker:
                    sentence_clauses.append(current)
            for clause in sentence_clauses:
                content = [c for w, c in zip(clause.words, clause.concepts, strict=False) if w not in lexicon.FILLERS]
                if content and content[0] in ("QWORD", "CONFIRMQ"):
                    clause.question = True
            if question and sentence_clauses:
                sentence_clauses[-1].question = True
            out.extend(sentence_clauses)
    return out


def _only_particles(clause: _Clause) -> bool:
    return all(c in _PARTICLES or (not c and w in lexicon.FILLERS) or c.startswith("TYPE:")
               for w, c in zip(clause.words, clause.concepts, strict=False))


def _first_content(clause: _Clause, i: int) -> bool:
    return all(w in lexicon.FILLERS or c in ("THANKS", "YESW") for w, c in
               zip(clause.words[:i], clause.concepts[:i], strict=False))


def _read_clause(clause: _Clause, index: int, signals: set[str]) -> tuple[list[_Decision], set[str], set[str]]:
    """The decisions of one clause, the types it names positively and negatively."""
    decisions: list[_Decision] = []
    types: set[str] = set()
    negated_types: set[str] = set()
    neg: int | None = None
    last: int | None = None  # the last decision word: "berkenan bergabung" is one verb phrase
    words, concepts = clause.words, clause.concepts
    particles = _only_particles(clause)

    def add(lean: Lean, strong: bool, *, negation: bool = False) -> None:
        decisions.append(_Decision(lean, strong, index))
        if negation:
            signals.add("negation")

    for i, (word, concept) in enumerate(zip(words, concepts, strict=False)):
        negated = neg is not None and i - neg <= 4
        rest = [w for w in words[i + 1:] if w not in lexicon.FILLERS and _concept(w) not in ("THANKS", "DEFER")]
        if concept == "NEG" or (concept == "NO" and not _first_content(clause, i)):
            neg = i
            continue
        if concept in ("ACC", "ACCW", "DEC", "YES", "NO") and (
                lexicon.MENTION & set(words[max(0, i - 2):i + 3])):
            signals.add("mention")  # "the accept button", "tombol setuju", "accept our apologies"
            neg = None
            continue
        if concept == "ACCW" and word in lexicon.MODALS and any(
                c in ("ACC", "ACCW", "DEC") for c in concepts[i + 1:i + 4]):
            continue  # "ingin menolak": the verb after the wish decides
        chained = concept in ("ACC", "ACCW", "DEC") and last is not None and i - last <= 3
        if chained:  # "belum siap bergabung", "berkenan bergabung": one verb phrase, one decision
            last = i
            continue
        if concept in ("ACC", "ACCW", "DEC") or (concept == "YESW" and negated):
            last = i
        if concept in ("ACC", "ACCW"):
            if negated:
                add("decline", True, negation=True)
            else:
                eager = word in lexicon.CONNECT_WORDS and bool(lexicon.EAGER & set(words))
                add("accept", concept == "ACC" or eager)
                if concept == "ACCW" and not eager:
                    signals.add("lean")
            neg = None
        elif concept == "DEC":
            add("accept", False, negation=True) if negated else add("decline", True)
            neg = None
        elif concept == "DECW":
            if word in ("pass", "skip"):
                if not negated and not _PASSED_ON & set(words[i + 1:i + 3]):  # "pass this to finance"
                    add("decline", True)
            elif not negated:
                add("decline", False)
                signals.add("emoji" if word.startswith("emoji") else "lean")
        elif concept == "YESW":
            if negated:
                add("decline", False, negation=True)
            else:
                add("accept", False)
                signals.add("emoji" if word == "emojiyes" else "slang")
            neg = None
        elif concept == "YES" and i + 1 < len(concepts) and concepts[i + 1] in ("NEG", "NO"):
            continue  # "definitely not", "absolutely not interested": the negator decides
        elif concept == "YES" and _first_content(clause, i):
            add("decline", False, negation=True) if negated else add("accept", True)
        elif concept == "NO" and (particles or _first_content(clause, i)):
            add("decline", True)
        elif concept == "OBJ":
            if negated:
                add("accept", True, negation=True)
            elif word != "object" or not rest:
                add("decline", False)
            neg = None
        elif concept == "NOW" and negated:
            add("decline", True, negation=True)
            neg = None
        elif concept == "UNDECIDED":
            signals.add("undecided")
        elif concept == "DECIDE":
            later = word == "decide" or (i > 0 and words[i - 1] in lexicon.LATER)
            signals.add("undecided" if negated or later else "decided")
            neg = None
        elif concept == "DISCUSS":
            if clause.marker != "AFTER":
                signals.add("discussion")
        elif concept == "DEFER":
            signals.add("deferral")
        elif concept == "CONFIRMQ":
            signals.add("confirm_request")
        elif concept.startswith("TYPE:"):
            (negated_types if negated else types).add(concept[5:])
        elif negated and word in ("jadi", "usah", "perlu", "bisa", "dapat", "can", "will", "mau") and not rest:
            add("decline", True, negation=True)
            neg = None
    if neg is not None and not decisions and particles and "NEG" in concepts:
        # "Tidak, terima kasih", "nggak dulu ya", "not yet": a bare negator answers no
        add("decline", True)
    if not decisions and "ONLY" in concepts and types:
        add("accept", False)  # "invoices only"
    if not decisions and negated_types and not types:
        add("decline", True)  # "not orders"
        types, negated_types = negated_types, set()
    for decision in decisions:
        decision.types = set(types)
    return decisions, types, negated_types


def _language(focus: str, decided_by: list[str]) -> Language | None:
    # a word known only through its Indonesian root ("diterima", "ditolak") is Indonesian
    ids = sum(1 for w in decided_by if w in lexicon.INDONESIAN or (w not in lexicon.WORDS and w not in lexicon.ENGLISH))
    ens = sum(1 for w in decided_by if w in lexicon.ENGLISH)
    if ids and not ens:
        return "id"
    if ens and not ids:
        return "en"
    return _guess_language(focus)


def understand(text: str, *, subject: str = "") -> Understanding:
    """Read the new text of a reply (quotes and signature already removed); when it has no words
    of its own, the Subject line (after "Re:") is read instead, and at most leads to a question."""
    if not text or not text.strip():
        fragment = _subject_answer(subject)
        if not fragment:
            return Understanding("unclear", None)
        reading = understand(fragment)
        if reading.lean is None or reading.intent in ("help", "status"):
            return Understanding("unclear", reading.language, signals=reading.signals)
        return Understanding("confirm", reading.language, reading.lean, reading.types, reading.other_types,
                             reading.only, tuple(sorted((*reading.signals, "subject"))))
    lines = _focus(_normalize(text))
    joined = " ".join(lines)
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        words = re.findall(r"[^\W_]+(?:['-][^\W_]+)*", _NOISE.sub(" ", _normalize(paragraph)))
        if words:
            request = _keyword_request(words)
            if request:
                return Understanding(request[0], request[1])
            break
    clauses = _clauses(lines)
    signals: set[str] = set()
    live: list[_Decision] = []
    named: dict[str, set[str]] = {"accept": set(), "decline": set()}
    decided_by: list[str] = []
    only = any("ONLY" in c.concepts for c in clauses)
    for index, clause in enumerate(clauses):
        clause_signals: set[str] = set()
        decisions, types, negated_types = _read_clause(clause, index, clause_signals)
        hypothetical = clause.marker in ("COND", "BEFORE") or clause.question
        if clause.marker == "COND":
            signals.add("condition")
        if clause.marker == "BEFORE":
            signals.add("condition")
        if clause.question or "confirm_request" in clause_signals:
            signals.add("question")
        if clause.marker == "CONTRAST":
            signals.add("contrast" if live else "contrast_before")
        if types or negated_types or "OTHERS" in clause.concepts or any(d.lean == "decline" for d in decisions):
            # "pesanan masih manual", "yang lain nanti", "nggak dulu": about the other types, or a no
            # for now, not a yes put off
            clause_signals.discard("deferral")
        if "confirm_request" in clause_signals or clause.question:
            clause_signals.discard("deferral")  # "mohon konfirmasinya dulu": part of the question
        signals |= clause_signals
        if decisions and hypothetical:
            signals.add("hypothetical")  # "Kalau setuju, ...", "before we accept", "Setuju?"
            continue
        if decisions and lexicon.ELSEWHERE & set(clause.words):
            signals.add("elsewhere")  # "we accepted a similar invitation", "menolak undangan serupa"
            continue
        if not decisions and clause.marker == "AND" and live and live[-1].clause == index - 1 and types:
            live[-1].clause = index  # "kami terima untuk faktur dan pesanan": one answer, two types
            live[-1].types |= types
            named[live[-1].lean] |= types
        if clause.marker == "AFTER" and live and not decisions:
            signals.add("condition")  # "kami akan setuju setelah rapat": not yet, until then
        for decision in decisions:
            live.append(decision)
            named[decision.lean] |= decision.types
        if negated_types:
            named["decline"] |= negated_types
        decided_by.extend(w for w, c in zip(clause.words, clause.concepts, strict=False)
                          if c in ("ACC", "ACCW", "DEC", "DECW", "YES", "YESW", "NO", "NEG", "OBJ"))
    language = _language(joined, decided_by)
    leans = {d.lean for d in live}
    if not leans:
        return Understanding("unclear", language, signals=tuple(sorted(signals)))
    if len(leans) > 1:
        strong_leans = {d.lean for d in live if d.strong}
        if named["accept"] and named["decline"] and not named["accept"] & named["decline"]:
            signals.add("partial")
            lean: Lean = "accept"
        elif len(strong_leans) == 1 and signals & {"slang", "emoji"}:
            # "Ok, tolak aja": the slang acknowledges, the verb answers; still asked back
            lean = strong_leans.pop()
            live = [d for d in live if d.lean == lean]
            signals.add("weak")
        else:
            signals.add("contradiction")
            return Understanding("unclear", language, signals=tuple(sorted(signals)))
    else:
        lean = leans.pop()
    mine = [d for d in live if d.lean == lean]
    strong = any(d.strong for d in mine)
    chosen = tuple(sorted(named[lean]))
    other = tuple(sorted(named["decline" if lean == "accept" else "accept"] - named[lean]))
    if "ALL" in {c for clause in clauses for c in clause.concepts}:
        chosen, other = (), ()
    if chosen or other:
        signals.add("partial")
    first_decision = min(d.clause for d in mine)
    hedged_after = any(clauses[i].marker == "CONTRAST" and i > first_decision and
                       not any(d.clause == i for d in mine) for i in range(len(clauses)))
    if hedged_after:
        signals.add("contrast")
    content = [w for c in clauses for w, k in zip(c.words, c.concepts, strict=False)
               if w not in lexicon.FILLERS and k not in ("THANKS",)]
    yes_no: Literal["yes", "no"] | None = None
    # A bare yes or no, told by particles ("ya", "ok", "betul", "tidak"), answers a confirmation
    # question; a decision verb ("setuju", "tolak") is a new answer of its own.
    particles_only = all(_concept(w) in ("YES", "YESW", "NO", "NEG") for w in decided_by)
    if particles_only and len(content) <= 5 and not signals & {
            "condition", "question", "contradiction", "partial", "discussion", "deferral", "hypothetical",
            "undecided"}:
        yes_no = "yes" if lean == "accept" else "no"
    result = functools.partial(Understanding, language=language, lean=lean, types=chosen, other_types=other,
                               only=bool(chosen) and only, yes_no=yes_no)
    if "undecided" in signals or "discussion" in signals and "decided" not in signals:
        return Understanding("unclear", language, signals=tuple(sorted(signals | {"lean:" + lean})))
    if lean == "accept" and "deferral" in signals:
        return Understanding("unclear", language, signals=tuple(sorted(signals | {"lean:accept"})))
    doubts = signals & {"condition", "question", "partial", "hypothetical"}
    if lean == "accept" and hedged_after:
        doubts.add("contrast")
    if not strong or "weak" in signals:
        doubts.add("weak")
    if doubts:
        return result(intent="confirm", signals=tuple(sorted(signals | ({"weak"} if not strong else set()))),
                      firm=doubts == {"partial"})
    return result(intent=lean, signals=tuple(sorted(signals)))


_SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|aw|fw|fwd|sv|balas|bls)\s*(?:\[\d+\])?\s*:\s*)+", re.I)


def _subject_answer(subject: str) -> str:
    """The part of a Subject line that can be an answer: after the last dash or colon ("Re: ... —
    SETUJU"), or a short subject of its own ("Tolak"); never our own invitation's subject."""
    subject = _SUBJECT_PREFIX.sub("", subject or "").strip()
    if not subject:
        return ""
    parts = re.split(r"\s[-—–|:]\s|\s[-—–]|[-—–]\s", subject)
    if len(parts) > 1:
        tail = parts[-1].strip()
        return tail if 0 < len(tail.split()) <= 4 else ""
    return subject if len(subject.split()) <= 3 else ""


def intent_of(text: str) -> tuple[Intent, Language | None]:
    """What the new text of a reply asks for, and in which language: ``understand`` in short."""
    reading = understand(text)
    return reading.intent, reading.language


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



def _guess_language(text: str) -> Language | None:
    words = _words(_normalize(text))
    id_count = sum(1 for w in words if w in _ID_WORDS)
    en_count = sum(1 for w in words if w in _EN_WORDS)
    if id_count > en_count:
        return "id"
    if en_count > id_count:
        return "en"
    return None



def _keyword_request(words: list[str]) -> tuple[Intent, Language | None] | None:
    """HELP / BANTUAN / STATUS, when that is essentially the whole text."""
    if not words or len(words) > 6:
        return None
    words = [w for w in words if w not in lexicon.FILLERS or w in _HELP_WORDS or w in _STATUS_WORDS]
    if set(words) <= _HELP_WORDS and {"help", "bantuan", "bantu", "tolong"} & set(words):
        if {"help", "need", "me", "i", "we", "us", "please", "pls"} & set(words) and not (
            {"bantuan", "bantu", "tolong", "mohon", "saya", "kami", "minta", "butuh", "perlu"} & set(words)
        ):
            return "help", "en"
        if "help" in words:
            return "help", _guess_language(" ".join(words)) or "en"
        return "help", "id"
    if set(words) <= _STATUS_WORDS and "status" in words:
        language: Language | None = None
        if {"cek", "lihat", "mohon", "undangan", "saya", "kami", "apa", "bagaimana", "gimana",
            "koneksi", "permintaan"} & set(words):
            language = "id"
        elif {"check", "please", "pls", "invitation", "my", "our", "the", "what", "whats", "what's", "is",
              "connection", "request"} & set(words):
            language = "en"
        return "status", language
    return None




def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+(?:['-][^\W_]+)*", text)
