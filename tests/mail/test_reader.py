"""The reply reader (mail/understand/intent.py): every signal it names, and the labelled corpus.

The corpus (tests/fixtures/replies/) has a development part and a held-out part; ``python -m
bench.replies`` prints their confusion matrices. Here: never a wrong action on either part, and
at least the accuracy measured when the corpus was written, less a margin.
"""

from __future__ import annotations

import pytest

from bench import replies as bench
from tautan.mail.understand import is_automatic_text, read, understand

# measured 2026-12-01: dev 235/236, held-out 99/100; the margin leaves room for careful changes
MIN_ACCURACY = {"dev": 0.95, "heldout": 0.93}


@pytest.mark.parametrize("part", bench.PARTS)
def test_corpus_never_acts_wrongly(part):
    results, wrong = bench.run(part)
    misread = [(c.id, c.expected, got) for c, _, got in results if bench.wrong_action(c.expected, got)]
    assert (wrong, misread) == (0, [])


@pytest.mark.parametrize("part", bench.PARTS)
def test_corpus_accuracy(part):
    results, _ = bench.run(part)
    right = sum(1 for c, _, got in results if c.expected == got)
    assert right / len(results) >= MIN_ACCURACY[part]


def test_corpus_is_big_and_varied():
    cases = bench.load("dev") + bench.load("heldout")
    assert len(cases) >= 300
    assert len(bench.load("heldout")) >= 0.25 * len(cases)
    for lang in ("id", "en"):
        for outcome in bench.OUTCOMES:
            assert sum(1 for c in cases if c.lang == lang and c.expected == outcome) >= 4, (lang, outcome)
    assert sum(1 for c in cases if "html" in c.entry) >= 10
    assert sum(1 for c in cases if "> " in str(c.entry.get("text", ""))) >= 30  # quoted originals below


def _read(text: str) -> tuple[str, str | None]:
    u = understand(text)
    return u.intent, u.lean


# Negation scoped to its clause, in both languages.
@pytest.mark.parametrize(("text", "intent"), [
    ("tidak setuju", "decline"), ("Kami tak setuju", "decline"), ("nggak setuju", "decline"),
    ("ga setuju", "decline"), ("gak mau", "decline"), ("enggak bisa", "decline"), ("belum bisa menerima", "decline"),
    ("Bukan, kami tidak mau", "decline"), ("jangan hubungkan perusahaan kami", "decline"),
    ("tidak berminat", "decline"), ("belum berkenan bergabung", "decline"),
    ("memutuskan untuk tidak bergabung", "decline"), ("tidak keberatan", "accept"),
    ("Tidak ada keberatan", "accept"), ("Kami tidak menolak", "confirm"),
    ("we do not accept", "decline"), ("We don't want to connect", "decline"), ("We can't accept", "decline"),
    ("We won't join", "decline"), ("never", "decline"), ("No.", "decline"), ("not interested", "decline"),
    ("No objection", "accept"), ("I don't mind, please connect", "accept"), ("We don't decline", "confirm"),
    ("Definitely not", "decline"), ("We have decided not to move forward", "decline"),
    # the negation ends with its clause: the other clause keeps its own meaning
    ("Tidak ada masalah, kami setuju", "accept"), ("No problem, we accept", "accept"),
    ("Kami tidak punya NPWP baru, tapi kami setuju", "accept"),
])
def test_negation(text, intent):
    assert _read(text)[0] == intent


# Hedges, conditions, deferrals, questions and contradictions never act.
@pytest.mark.parametrize(("text", "intent", "signal"), [
    ("Setuju, tapi format faktur kami PDF", "confirm", "contrast"),
    ("Kami terima, namun perlu invoice manual juga", "confirm", "contrast"),
    ("Yes, but the format must stay the same", "confirm", "contrast"),
    ("Setuju asalkan gratis", "confirm", "condition"),
    ("Setuju apabila tidak ada biaya", "confirm", "condition"),
    ("Setuju jika tidak ada biaya", "confirm", "condition"),
    ("Kami terima kalau gratis", "confirm", "condition"),
    ("We accept if there is no fee", "confirm", "condition"),
    ("We accept as long as nothing changes", "confirm", "condition"),
    ("We accept once legal has signed off", "confirm", "condition"),
    ("Kami akan setuju setelah rapat", "confirm", "condition"),
    ("Oke, tapi kami diskusikan dulu", "unclear", "discussion"),
    ("Setuju, nanti dulu ya", "unclear", "deferral"),
    ("Kami belum memutuskan", "unclear", "undecided"),
    ("Sementara kami pelajari dulu", "unclear", "discussion"),
    ("We'll accept later", "unclear", "deferral"),
    ("Let me check with finance first", "unclear", "discussion"),
    ("Not yet, I need to check with legal before we accept", "unclear", "discussion"),
    ("Before we accept, what does it cost?", "unclear", "hypothetical"),
    ("Kalau setuju, apa yang harus kami lakukan?", "unclear", "hypothetical"),
    ("Setuju?", "unclear", "hypothetical"),
    ("Can we accept later?", "unclear", "hypothetical"),
    ("We accept. Is there a fee?", "confirm", "question"),
    ("Kami setuju, mohon konfirmasi biayanya", "confirm", "question"),
    ("Yes and no", "unclear", "contradiction"),
    ("Setuju, tapi kami menolak", "unclear", "contradiction"),
    ("Kami tidak menolak, tapi belum bisa setuju", "unclear", "contradiction"),
])
def test_hedges(text, intent, signal):
    u = understand(text)
    assert (u.intent, signal in u.signals) == (intent, True), u


# Indonesian morphology (through the stemmer), typos and phone spellings.
@pytest.mark.parametrize(("text", "intent"), [
    ("Kami menerima", "accept"), ("Diterima", "accept"), ("terima", "accept"), ("Kami menolak", "decline"),
    ("Ditolak", "decline"), ("Kami menyetujui", "accept"), ("Disetujui", "accept"), ("Sudah kami setujui", "accept"),
    ("Persetujuan kami berikan", "accept"), ("Kami bersedia", "accept"), ("Kesediaan kami sampaikan", "accept"),
    ("stuju", "accept"), ("sy stju", "accept"), ("kmi setuju", "accept"), ("gk setuju", "decline"),
    ("tdk setuju", "decline"), ("blm bisa", "decline"), ("ga jadi", "decline"), ("trima pak", "accept"),
])
def test_morphology_and_spelling(text, intent):
    assert _read(text)[0] == intent


# Colloquial and regional answers, emoji: a lean, asked back, or a clear no where it is one.
@pytest.mark.parametrize(("text", "intent", "lean"), [
    ("oke siap", "confirm", "accept"), ("siap pak", "confirm", "accept"), ("sip", "confirm", "accept"),
    ("gas", "confirm", "accept"), ("boleh", "confirm", "accept"), ("monggo", "confirm", "accept"),
    ("mangga", "confirm", "accept"), ("mantap lanjut", "confirm", "accept"), ("sounds good", "confirm", "accept"),
    ("count us in", "accept", "accept"), ("go ahead", "accept", "accept"), ("please proceed", "accept", "accept"),
    ("nggak dulu", "decline", "decline"), ("skip dulu", "decline", "decline"), ("belum dulu", "decline", "decline"),
    ("pass", "decline", "decline"), ("we'll pass", "decline", "decline"), ("not interested", "decline", "decline"),
    ("not at this time", "decline", "decline"), ("no thank you", "decline", "decline"),
    ("👍", "confirm", "accept"), ("👍🏻", "confirm", "accept"), ("👍🏿", "confirm", "accept"), ("✅", "confirm", "accept"),
    ("👎", "confirm", "decline"), ("❌", "confirm", "decline"),
    ("We would rather not", "confirm", "decline"), ("Kami belum siap bergabung", "confirm", "decline"),
    ("Ok tolak aja", "confirm", "decline"), ("Disagree", "decline", "decline"),
    ("Oke, kami setuju", "accept", "accept"),
])
def test_colloquial_and_emoji(text, intent, lean):
    u = understand(text)
    assert (u.intent, u.lean) == (intent, lean), u


@pytest.mark.parametrize("text", [
    "The accept button did not work for me.", "Tombol setuju tidak berfungsi.",
    "We have accepted a similar invite from another customer.", "Kemarin kami menolak undangan serupa dari PT lain.",
    "Our CFO will decide whether to accept.", "Accepting this would require approval from HQ.",
    "Kami sebenarnya ingin menolak, tapi atasan minta setuju.", "Perlu persetujuan direksi dulu",
])
def test_mentions_and_other_peoples_decisions_never_act(text):
    assert understand(text).intent == "unclear"


def test_pass_on_to_someone_is_not_a_no():
    assert understand("I will pass this to our finance team").intent == "unclear"


def test_were_in_the_middle_is_not_a_yes():
    assert understand("We're in the middle of an audit, send details please").intent == "unclear"


@pytest.mark.parametrize(("text", "types", "other", "only"), [
    ("setuju untuk faktur saja", ("invoice",), (), True),
    ("invoices only, not orders", ("invoice",), ("order",), True),
    ("Yes for orders, no for invoices", ("order",), ("invoice",), False),
    ("Kami terima untuk faktur dan pesanan", ("invoice", "order"), (), False),
])
def test_partial_answers_name_their_types(text, types, other, only):
    u = understand(text)
    assert (u.intent, u.lean, u.types, u.other_types, u.only) == ("confirm", "accept", types, other, only)


def test_all_types_is_not_partial():
    assert understand("Setuju untuk semua jenis dokumen").intent == "accept"


@pytest.mark.parametrize(("subject", "lean"), [
    ("Re: PT Maju Jaya mengundang Anda terhubung di Tautan — SETUJU", "accept"),
    ("Re: PT Maju Jaya invites you to connect on tautan - Decline", "decline"), ("Tolak", "decline"),
    ("RE: setuju", "accept"),
])
def test_subject_line_when_the_body_is_empty(subject, lean):
    u = understand("", subject=subject)
    assert (u.intent, u.lean, "subject" in u.signals) == ("confirm", lean, True)


def test_our_own_subject_is_not_an_answer():
    assert understand("", subject="Re: PT Maju Jaya invites you to connect on tautan").intent == "unclear"


def test_closing_line_ends_the_answer():
    text = "We decline.\n\nBest regards,\nTom\n\"We accept nothing less than excellence\""
    assert understand(text).intent == "decline"


@pytest.mark.parametrize("text", [
    "Saya sedang cuti hingga 15 Maret dan akan membalas setelah kembali.",
    "Saat ini saya sedang tidak berada di kantor sampai tanggal 10 April.",
    "Pesan ini adalah balasan otomatis.",
    "I am out of the office until March 20 with limited access to email.",
    "I'm on annual leave and will return on Monday.",
    "This is an automated response.",
])
def test_out_of_office_text_is_machine_mail(text):
    assert is_automatic_text(text)
    raw = f"From: a@b.example\r\nTo: connect+{'0' * 32}@x.example\r\nSubject: Re: x\r\n\r\n{text}\r\n".encode()
    assert read(raw).kind == "auto_reply"


@pytest.mark.parametrize("text", ["Saya sedang di luar kota, akan saya cek minggu depan.",
                                  "I was out of the office last week, but yes, we accept."])
def test_a_person_mentioning_absence_is_not_machine_mail(text):
    assert not is_automatic_text(text)


@pytest.mark.parametrize(("text", "yes_no"), [
    ("ya", "yes"), ("Yes", "yes"), ("betul", "yes"), ("benar", "yes"), ("confirm", "yes"), ("ok", "yes"),
    ("Ya, benar", "yes"), ("tidak", "no"), ("No", "no"), ("Setuju, tapi nanti", None), ("Apa ini?", None),
    ("Setuju", None), ("Tolak", None),
])
def test_bare_yes_or_no(text, yes_no):
    assert understand(text).yes_no == yes_no


@pytest.mark.parametrize(("text", "language"), [("Diterima", "id"), ("Ditolak", "id"), ("We accept", "en"),
                                                ("ok", None), ("Kami setuju", "id")])
def test_language_of_the_answer(text, language):
    assert understand(text).language == language
