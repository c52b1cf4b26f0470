"""The words the reader knows, as data: each surface form (or Indonesian root) maps to a concept.

The procedure in ``intent.py`` never looks at a word itself, only at these concepts, so a new
phrasing is taught by adding a row here, not by adding a branch there. Concepts:

``ACC`` / ``DEC``       a decision verb: accept / decline (strong: acts when nothing hedges it)
``ACCW`` / ``DECW``     a lean: slang, emoji, interest, "please connect" (asks for confirmation)
``YES`` / ``NO``        an answer particle: counts only as the whole clause ("Yes.", "Tidak, terima kasih")
``YESW``                a slang particle ("ok", "sip", "monggo", 👍): a lean, never an action
``NEG``                 a negator; it turns the next decision word of its clause around
``OBJ``                 an objection ("keberatan", "objection", "mind"): negated it is a yes
``DECIDE``              "decided"/"memutuskan": negated ("belum memutuskan") it means undecided
``DISCUSS``             to consult, check, think over: the decision is not taken yet
``DEFER``               later, first, dulu, nanti: a deferral (a yes with it is not a yes yet)
``NOW``                 for now, at this time, saat ini: neutral, but "not now" is a no
``COND``                if, as long as, asalkan, kalau...: a condition
``BEFORE``              before, sebelum: the decision in that clause depends on something else
``AFTER``               after, setelah: what follows in that clause already happened
``CONTRAST``            but, tapi, namun...: a hedge after a decision
``QWORD``               a question word at the start of a clause
``CONFIRMQ``            "mohon konfirmasi", "please confirm": a question in disguise
``ONLY``                only, saja: limits an answer to the document types it names
``OTHERS``              the rest, yang lain: the types not named
``TYPE:<code>``         a document type
``ALL``                 all, semua: every type
"""

from __future__ import annotations

import re

# Phone spellings and common typos, word by word (after case folding).
SPELLING: dict[str, str] = {
    "stuju": "setuju", "stju": "setuju", "setju": "setuju", "setujuh": "setuju", "sttju": "setuju",
    "sy": "saya", "sya": "saya", "kmi": "kami", "km": "kami", "kt": "kita",
    "gk": "nggak", "ga": "nggak", "gak": "nggak", "ngga": "nggak", "nggk": "nggak", "engga": "nggak",
    "enggak": "nggak", "ndak": "nggak", "tdk": "tidak", "tak": "tidak", "blm": "belum", "blum": "belum",
    "trima": "terima", "trm": "terima", "trmks": "terimakasih", "sdh": "sudah", "udh": "sudah", "udah": "sudah",
    "yg": "yang", "utk": "untuk", "dgn": "dengan", "tp": "tapi", "tpi": "tapi", "jd": "jadi", "bs": "bisa",
    "gbs": "nggak bisa", "gabisa": "nggak bisa", "gamau": "nggak mau", "gmau": "nggak mau", "sm": "sama",
    "dl": "dulu", "dlu": "dulu", "nnti": "nanti", "ntar": "nanti", "lg": "lagi", "krn": "karena",
    "okey": "ok", "okay": "ok", "oke": "ok", "okee": "ok", "okeh": "ok", "oce": "ok", "okk": "ok", "k": "ok",
    "iyaa": "iya", "iyah": "iya", "yaa": "ya", "yoi": "ya", "yep": "yes", "yup": "yes", "yeah": "yes",
    "yess": "yes", "pls": "please", "plz": "please", "silahkan": "silakan", "thx": "thanks", "tq": "thanks",
    "tks": "thanks", "makasih": "thanks", "trims": "thanks", "terimakasih": "thanks", "ty": "thanks",
    "approve": "approve", "accpet": "accept", "acept": "accept", "decilne": "decline", "declien": "decline",
}

# Phrases folded into one token before words are read (regular expressions over normalised text).
PHRASES: list[tuple[str, str]] = [
    (r"(?:sudah|telah) (?:kami |saya )?(?:terima|diterima)\b", " received "),
    (r"\b(?:terima ?kasih|thank ?you|thanks|matur nuwun|hatur nuhun)(?: (?:banyak|so much|very much))?"
     r"(?: (?:atas|for) (?:the |your )?\w+(?:nya)?)?", " thanks "),
    (r"\b(?:tidak|nggak|no) (?:masalah|problem|worries|apa[- ]?apa|papa)\b", " "),
    (r"\bno objections?\b", " not objection "),
    (r"\btidak ada keberatan\b", " tidak keberatan "),
    (r"\bgo for it\b", " yesw "),
    (r"\b(?:go ahead|move forward|moving forward|proceed(?:ing)?|carry on)\b", " proceed "),
    (r"\b(?:count (?:us|me) in|sign (?:us|me) up)\b", " join_in "),
    (r"\b(?:we'?re|we are|i'?m|i am) in\b(?=\s*(?:[.!,;]|$|\n|thanks|too))", " join_in "),
    (r"\b(?:sounds|looks) (?:good|great|fine|ok)\b|\b(?:fine|ok|good) (?:by|with) (?:me|us)\b|"
     r"\bworks for (?:me|us)\b", " yesw "),
    (r"\b(?:please|kindly|could you|can you|mohon|tolong) (?:di)?konfirmasi\w*|\bkonfirmasinya\b|"
     r"\b(?:please|kindly) confirm\b|\bcould you confirm\b|\bcan you confirm\b", " confirmq "),
    (r"\b(?:i|we) (?:hereby )?confirm\b|\bconfirmed\b", " accept "),
    (r"\b(?:check|talk|speak|consult|discuss) with\b|\bthink (?:about|it over|over)\b|\bget back to\b|"
     r"\blet (?:you|u) know\b|\blook into\b|\breview\b|\bask (?:my|our)\b", " discuss "),
    (r"\b(?:as long as|provided that|provided|on condition|assuming|with the condition|dengan syarat|"
     r"asalkan|asal)\b", " cond "),
    (r"\b(?:for now|at this time|at the moment|right now|saat ini|sekarang|sementara|untuk sementara)\b", " now "),
    (r"\b(?:terlebih dahulu|lebih dulu|dahulu)\b", " dulu "),
    (r"\b(?:next|this coming) (?:week|month|quarter|year)\b|\bminggu depan\b|\bbulan depan\b|\btahun depan\b",
     " later "),
    (r"\b(?:hanya saja|cuma saja)\b", " tapi "),
    (r"\b(?:yang lain|lainnya|the rest|the others|other types|sisanya)\b", " others "),
    (r"\b(?:all|semua|seluruh) (?:jenis |the )?(?:dokumen|document types|documents|types)\b", " all "),
    (r"\bpurchase orders?\b", " order "),
    (r"\b(?:won'?t)\b", " will not "),
    (r"\b(?:can'?t|cannot)\b", " can not "),
    (r"\b(\w+)n't\b", r" \1 not "),
    (r"\b(?:not|tidak|nggak|belum|bukan) (?:sure|tahu|tau|yakin|know|certain)\b", " undecided "),
    (r"\b(?:ga|gak|nggak|tidak|not) (?:decided|diputuskan)\b", " undecided "),
    (r"\bremove us\b|\bhapus kami\b", " unsubscribe "),
    (r"\b(?:would|had|i'?d|we'?d) rather not\b", " rathernot "),
]

# Concepts of surface forms. Indonesian affixed forms are found through their stem (ROOTS below).
WORDS: dict[str, str] = {}


def _add(concept: str, words: str) -> None:
    for word in words.split():
        WORDS[word] = concept


_add("ACC", "accept accepts accepted accepting agree agrees agreed approve approves approved setuju sepakat "
            "bersedia berkenan proceed dilanjutkan melanjutkan join_in persetujuan "
            "terima")
_add("DEC", "disagree disagrees disagreed decline declines declined declining reject rejects rejected rejecting "
            "refuse refuses refused "
            "tolak unsubscribe batal")
_add("ACCW", "lanjut lanjutkan interested berminat tertarik join joining gabung bergabung ikut connect connected "
             "mau ingin want")
_add("YES", "yes ya iya betul benar bener absolutely certainly definitely tentu confirm")
_add("YESW", "ok yesw sip siap boleh monggo mangga gas mantap mantul sure fine alright cool great perfect "
             "baik emojiyes lanjutt")
_add("NO", "no nope nah")
_add("DECW", "emojino pass skip rathernot")
_add("NEG", "not never tidak nggak belum bukan jangan kurang unable")
_add("OBJ", "keberatan objection object")
_add("DECIDE", "decided decide memutuskan diputuskan putuskan")
_add("DISCUSS", "discuss discussing consult check checking think review diskusi diskusikan mendiskusikan "
                "bicarakan membicarakan rundingkan pelajari mempelajari pikirkan pertimbangkan tanya "
                "tanyakan konsultasikan koordinasikan cek kabari kabarkan mengabari forwarding forwarded "
                "teruskan require requires required menunggu awaiting pending approval")
_add("DEFER", "dulu nanti later yet first soon")
_add("NOW", "now")
_add("UNDECIDED", "undecided")
_add("AND", "dan atau and or serta karena because since sebab")
_add("COND", "whether if unless cond jika kalau apabila bila jikalau seandainya kecuali selama")
_add("BEFORE", "before sebelum once")
_add("AFTER", "after setelah sesudah")
_add("CONTRAST", "but however though although tapi tetapi namun meskipun walaupun walau")
_add("QWORD", "apa apakah bagaimana gimana kenapa mengapa kapan siapa berapa dimana bisakah bolehkah "
              "what why how when where who which whom")
_add("CONFIRMQ", "confirmq")
_add("ONLY", "only just saja aja hanya cuma")
_add("OTHERS", "others")
_add("ALL", "all")
_add("TYPE:invoice", "invoice invoices faktur e-faktur efaktur tagihan billing")
_add("TYPE:order", "order orders pesanan po")
_add("TYPE:catalog", "catalog catalogs catalogue catalogues katalog")
_add("THANKS", "thanks")
_add("RECEIVED", "received noted")

# Indonesian roots (from the stemmer) and the concept of their affixed forms, with a check on the
# surface form where the root alone is ambiguous ("tujuan" is a goal, "setujui" an agreement;
# "hubungi" is "contact us", "hubungkan" is "connect").
ROOTS: dict[str, tuple[str, str]] = {
    "terima": ("ACC", ""), "tolak": ("DEC", ""), "tuju": ("ACC", "etuj"), "sedia": ("ACC", "sedia"),
    "kenan": ("ACC", ""), "sepakat": ("ACC", ""), "lanjut": ("ACCW", ""), "gabung": ("ACCW", ""),
    "minat": ("ACCW", ""), "tarik": ("ACCW", "tertarik"), "hubung": ("ACCW", "kan"), "sambung": ("ACCW", "kan"),
    "putus": ("DECIDE", "utus"), "diskusi": ("DISCUSS", ""), "bicara": ("DISCUSS", "kan"),
    "runding": ("DISCUSS", ""), "ajar": ("DISCUSS", "pelajari"), "pikir": ("DISCUSS", "kan"),
    "timbang": ("DISCUSS", ""), "tanya": ("DISCUSS", ""), "kabar": ("DISCUSS", "kabar"), "berat": ("OBJ", "keberat"),
    "konfirmasi": ("CONFIRMQ", "dikonfirmasi"),
}

# A decision word next to one of these is mentioned, not meant: "the accept button did not
# work", "tombol setuju", "accept our apologies".
MENTION = frozenset("button buttons tombol link tautan page halaman option opsi word kata apologies apology "
                    "responsibility".split())
# A decision about something else: "we accepted a similar invitation", "menolak undangan serupa".
ELSEWHERE = frozenset("similar serupa another other lain lainnya previous sebelumnya last kemarin earlier".split())
# Wanting is not deciding when a decision word follows: "ingin menolak", "want to accept".
MODALS = frozenset("mau ingin want wish".split())
# Before "decide": the decision is someone's to take later ("will decide", "akan memutuskan").
LATER = frozenset("will akan to would can may must harus perlu yang".split())

# Joining words that make a lean firm: "silakan dihubungkan", "please connect", "happy to join".
CONNECT_WORDS = frozenset("connect connected join joining gabung bergabung ikut hubungkan dihubungkan "
                          "sambungkan disambungkan menghubungkan lanjut lanjutkan".split())
EAGER = frozenset("please silakan mohon tolong happy glad senang love kindly".split())

# Words that may stand beside an answer particle without changing it ("Ya pak", "No, thank you").
FILLERS = frozenset(
    "please sir madam dear so much very indeed of course then i we us our me my you dong deh kok lah kak "
    "pak bu bapak ibu mas mbak bang gan om bos boss sudah saja aja ya yah nih sih kami saya aku kita "
    "silakan sekali banget sangat and dan also juga untuk the a it that this ini itu nya yang hi hello "
    "halo hai all team tim side sisi thanks thank just for from dari on behalf atas nama with dengan "
    "tolong mohon to".split()
)

# Emoji: thumbs up/down with any skin tone, check marks and crosses.
EMOJI = [
    (re.compile("[\U0001F44D\u2705\u2714\u2611\U0001F44C\U0001F197](?:[\U0001F3FB-\U0001F3FF]|\ufe0f)*"),
     " emojiyes "),
    (re.compile("[\U0001F44E\u274C\u274E\u2716\U0001F6AB](?:[\U0001F3FB-\U0001F3FF]|\ufe0f)*"), " emojino "),
]

# A closing line: what follows it is a signature or a tagline, never the answer.
CLOSING = re.compile(
    r"^(?:best(?: regards| wishes)?|kind regards|warm regards|regards|cheers|sincerely|yours(?: truly)?|"
    r"thanks(?: again)?|thank you|many thanks|salam(?: hangat| sejahtera| hormat)?|hormat (?:kami|saya)|"
    r"wassalam|terima kasih|terimakasih|makasih|tabik|br)[ ,.!]*$",
    re.I,
)

# Decision words by language (for the language of the answer); "ok" and emoji are neither.
INDONESIAN = frozenset(
    "setuju sepakat bersedia berkenan lanjut lanjutkan dilanjutkan melanjutkan tolak terima ya iya betul benar "
    "bener tentu tidak nggak belum bukan jangan kurang sip siap boleh monggo mangga gas mantap mantul baik "
    "keberatan batal jadi usah perlu tertarik berminat gabung bergabung ikut mau ingin dulu nanti sekarang "
    "saja aja hanya cuma faktur pesanan katalog tagihan kalau jika apabila asalkan tapi namun".split()
)
ENGLISH = frozenset(
    "accept accepts accepted accepting agree agrees agreed approve approved decline declines declined reject "
    "rejected refuse refused yes no nope nah not never sure fine alright cool great perfect proceed join_in "
    "interested join connect want pass skip unsubscribe objection object yet later first only just invoice "
    "invoices order orders catalog catalogs if unless but however before once decided confirm confirmed".split()
)
