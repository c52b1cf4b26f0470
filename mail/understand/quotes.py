"""The new text of a reply: quoted mail, attributions and signatures trimmed."""

from __future__ import annotations

import re

from tautan.mail.understand.html import _INVISIBLE

_QUOTE_LINE = re.compile(r"^[ \t]*>")
_WROTE = (
    r"wrote|writes|menulis|a [ée]crit|schrieb|escribi[óo]|escreveu|ha scritto|scrisse|"
    r"(?:het volgende )?geschreven|schreef|skrev|napisa[łl](?:\(a\))?|napisala|написал(?:\(а\)|а)?|"
    r"пише|写道|寫道|kirjoitti|yazd[ıi]|έγραψε|ecrit|wrote on"
)
_WROTE_RE = re.compile(rf"(?:^|[\s,\"'>)])(?:{_WROTE})\b", re.I)
_WROTE_END = re.compile(
    rf"(?:(?:{_WROTE})\s*(?:[:：]|-{{2,}})?|(?:{_WROTE})\b.{{0,60}}[:：]|schrieb am .{{0,60}}uhr\s*:?)\s*$",
    re.I,
)
# "26.06.2014, 14:41, "Alexander L" <abc@example.com>:" (Yandex, Mail.ru, old Gmail)
_DATED_ADDRESS_END = re.compile(r"\d{1,2}[:.]\d{2}\b.{0,120}<[^<>\s]+@[^<>\s]+>\s*[:：]\s*$")
_ATTRIBUTION_START = re.compile(
    r"^(?:[-*]+\s*)?(?:on|pada|pada tanggal|le|am|el|em|il|op|den|dnia|w dniu|at|dne|"
    r"mon|tue|wed|thu|fri|sat|sun|sen|sel|rab|kam|jum|sab|min|"
    r"\d+|\"|'|<|[^\s@]+@)\b",
    re.I,
)
_HAS_WHEN_OR_WHO = re.compile(r"@|\d{1,2}[:.]\d{2}|(?:19|20)\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")
_DATE_ATTRIBUTION = re.compile(
    r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b.{0,80}(?:\d{1,2}:\d{2}|<[^>]*@[^>]*>?)", re.I
)
_ORIGINAL_MARKER = re.compile(
    r"^[*_\s]*(?:[-=_]{2,}\s*)?(?:original message|original e-?mail|pesan asli|pesan asal|pesan awal|"
    r"forwarded message|pesan terusan|pesan yang diteruskan|ursprüngliche nachricht|original-nachricht|"
    r"weitergeleitete nachricht|mensaje original|mensaje reenviado|message d'origine|message original|"
    r"message transféré|messaggio originale|messaggio inoltrato|oorspronkelijk bericht|"
    r"doorgestuurd bericht|originalmeddelande|vidarebefordrat meddelande|mensagem original|"
    r"mensagem encaminhada|oprindelig meddelelse|alkuperäinen viesti|исходное сообщение|"
    r"пересылаемое сообщение|reply message|balasan pesan)\s*(?:[-=_]{2,})?[*_\s]*:?\s*$",
    re.I,
)
_FORWARD_MARKER = re.compile(
    r"^\s*(?:begin forwarded message|awal pesan yang diteruskan|pesan yang diteruskan dimulai|"
    r"anfang der weitergeleiteten nachricht|début du message réexpédié|inicio del mensaje reenviado)\s*:",
    re.I,
)
_HEADER_KEYS = (
    r"from|sent|date|to|cc|bcc|subject|reply-to|dari|dikirim|terkirim|tanggal|kepada|ke|kpd|perihal|"
    r"subjek|judul|tembusan|von|gesendet|an|betreff|datum|de|enviado|para|asunto|fecha|envoy[ée]|"
    r"[àa]|objet|da|inviato|oggetto|data|risposta|fr[åa]n|skickat|till|[äa]mne|kopia|van|verzonden|"
    r"aan|onderwerp|od|wys[łl]ane|do|temat|от|отправлено|кому|тема|дата|发件人|发送时间|收件人|主题"
)
_HEADER_LINE = re.compile(rf"^[ \t]*[*_]{{0,2}}\s*({_HEADER_KEYS})\s*[*_]{{0,2}}\s*[:：]", re.I)
_FROM_KEYS = frozenset(("from", "dari", "von", "de", "da", "från", "fran", "van", "od", "от", "发件人",
                        "date", "sent", "subject"))
_DELIMITER = re.compile(r"^[ \t]*(?:[-_=*#~+—–•·ᐧ]{2,}|[—ᐧ])[ \t]*$")
_SIGNATURE_DELIMITER = re.compile(r"^(?:--|—|-- ?)[ \t]*$")
_MOBILE_SIGNATURE = re.compile(
    r"^[ \t]*[(<\[]*\s*(?:"
    r"sent (?:from|via|with|using|by|on) .{1,70}|"
    r"(?:get|download) (?:\[?outlook|\[?microsoft outlook|the outlook).{0,70}|"
    r"dapatkan (?:\[?outlook|aplikasi).{0,70}|"
    r"(?:dikirim|terkirim|dikirimkan) (?:dari|melalui|dengan|via|menggunakan|lewat) "
    r"(?:iphone|ipad|ponsel|perangkat|telepon|hp|yahoo|outlook|samsung|android|gmail|email|e-mail|surel|"
    r"aplikasi|mail|blackberry|smartphone|galaxy|huawei|xiaomi|oppo|vivo|redmi|realme|windows|my|"
    r"seluler|handphone|tablet)\b.{0,60}|"
    r"envoy[ée] (?:de|depuis|à partir de) .{1,60}|von meinem .{1,60} gesendet\.?|"
    r"enviado (?:desde|de|do) (?:mi|meu) .{1,60}|inviato da(?:l mio)? .{1,60}|"
    r"verzonden (?:met|vanaf|van(?:af)? mijn) .{1,60}|sendt fra min .{1,60}|skickat från min .{1,60}|"
    r"lähetetty .{1,60}|從我的 .{1,30}傳送|发自我的.{1,30}|"
    r"diese nachricht wurde von meinem .{1,80} gesendet\.?|"
    r"<<sent by .{1,30}>>|from my (?:iphone|ipad|android|mobile|samsung).{0,30}"
    r")[)>\]]*\s*$",
    re.I,
)


def _is_header_block(lines: list[str], i: int) -> bool:
    """An Outlook-style header block ("From: … / Sent: … / To: … / Subject: …") starts here."""
    first = _HEADER_LINE.match(lines[i])
    if not first or first.group(1).lower() not in _FROM_KEYS:
        return False
    keys = {first.group(1).lower()}
    for line in lines[i + 1 : i + 8]:
        match = _HEADER_LINE.match(line)
        if match:
            keys.add(match.group(1).lower())
    return len(keys) >= 3 or (len(keys) == 2 and bool(keys & {"from", "dari", "von", "de", "da", "van"})
                              and bool(keys & {"sent", "date", "dikirim", "tanggal", "terkirim",
                                               "gesendet", "enviado", "datum", "fecha", "subject",
                                               "perihal", "subjek"}))


def _attribution_length(lines: list[str], i: int) -> int:
    """How many lines an "On … wrote:" attribution starting at line i spans (0: none)."""
    first = lines[i].strip()
    if not first or len(first) > 300:
        return 0
    if _DATE_ATTRIBUTION.match(first) and len(first) < 200:
        # Gmail's "2016-03-03 17:21 GMT+01:00 Some One <x@y>:" form
        return 1
    if not _WROTE_RE.search(" " + first) and not _ATTRIBUTION_START.match(first):
        return 0
    joined = ""
    taken = 0
    for j in range(i, min(i + 8, len(lines))):
        part = lines[j].strip()
        if j > i:
            part = part.lstrip(">").strip()
        if not part:
            continue
        taken += 1
        joined = f"{joined} {part}".strip()
        if len(joined) > 400 or taken > 5:
            return 0
        if (_WROTE_END.search(joined) and _HAS_WHEN_OR_WHO.search(joined)) or _DATED_ADDRESS_END.search(joined):
            if j > i and not (_ATTRIBUTION_START.match(first) or "@" in first or "<" in first):
                return 0
            return j - i + 1
        if j == i and not _ATTRIBUTION_START.match(first) and "@" not in first and "<" not in first:
            return 0
        if j > i and part.endswith((".", "!", "?")):
            return 0  # a sentence ended: this is prose that happens to precede an attribution
    return 0


def trim_reply(text: str, *, signature: bool = True) -> str:
    """The new text of a reply: quoted lines, "On … wrote:" / "Pada … menulis:" and what
    follows, Outlook header blocks ("From:/Sent:" and "Dari:/Dikirim:/Kepada:/Perihal:"),
    "-----Original Message-----" / "-----Pesan Asli-----" and what follows are removed; with
    ``signature`` (the default) also the "-- " signature and "Sent from my iPhone" /
    "Dikirim dari iPhone saya" lines and everything below them."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE).replace("\u00a0", " ")
    lines = text.split("\n")
    out: list[str] = []
    in_code = False
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            in_code = not in_code
            out.append(line)
            i += 1
            continue
        if in_code:
            out.append(line)
            i += 1
            continue
        has_text = any(o.strip() for o in out)
        if _QUOTE_LINE.match(line):
            i += 1
            continue
        if stripped and len(stripped) < 300 and (_ORIGINAL_MARKER.match(stripped) or _FORWARD_MARKER.match(line)):
            break  # everything below is the earlier message, with or without text above
        if _HEADER_LINE.match(line) and _is_header_block(lines, i):
            break
        span = _attribution_length(lines, i) if stripped else 0
        if span:
            if has_text:
                break  # a top-posted reply ends at the attribution of the quoted mail
            i += span  # bottom-posted: drop the attribution, keep what follows the quote
            continue
        if signature and (_SIGNATURE_DELIMITER.match(line) or _MOBILE_SIGNATURE.match(stripped)):
            if has_text:
                break
            i += 1
            continue
        if _DELIMITER.match(line) and (signature or not _SIGNATURE_DELIMITER.match(line)):
            if has_text:
                break
            i += 1
            continue
        out.append(line)
        i += 1
    return "\n".join(out).strip()
