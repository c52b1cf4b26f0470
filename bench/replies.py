"""The reply reader measured on the labelled corpus (tests/fixtures/replies/).

Run from the repository root: ``python -m bench.replies``. Prints, for the development part and
the held-out part, the confusion matrix (expected outcome by row, the reader's by column) per
language, the accuracy, and the WRONG ACTIONS: replies the reader would act on against their
label (connecting on a decline/unclear/confirm label, declining on an accept/unclear/confirm
label). Wrong actions must be 0. ``--show`` lists every miss with the signals the reader saw.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from tautan.mail.understand import Reading, read

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "replies"
OUTCOMES = ("accept", "decline", "unclear", "confirm", "machine")
PARTS = ("dev", "heldout")


@dataclass(frozen=True)
class Case:
    id: str
    part: str
    lang: str
    expected: str
    entry: dict[str, object]


def load(part: str) -> list[Case]:
    cases = []
    for line in (CORPUS / f"{part}.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            cases.append(Case(str(entry["id"]), part, str(entry["lang"]), str(entry["expected"]), entry))
    return cases


def message(case: Case) -> bytes:
    """The reply as a supplier's mail client would send it (text, or HTML only)."""
    msg = EmailMessage()
    msg["From"] = "Supplier <rina@sumber-rejeki.co.id>"
    msg["To"] = "connect+0123456789abcdef0123456789abcdef@connect.example.id"
    msg["Subject"] = str(case.entry.get("subject") or "")
    msg["Message-ID"] = f"<{case.id}@sumber-rejeki.co.id>"
    for name, value in dict(case.entry.get("headers") or {}).items():  # type: ignore[call-overload]
        msg[name] = value
    if "html" in case.entry:
        msg.set_content(str(case.entry["html"]), subtype="html")
    else:
        msg.set_content(str(case.entry.get("text") or ""))
    return msg.as_bytes()


def outcome(reading: Reading) -> str:
    if reading.kind != "human":
        return "machine"
    if reading.intent in ("help", "status"):
        return "unclear"
    return reading.intent


def wrong_action(expected: str, got: str) -> bool:
    return (got == "accept" and expected != "accept") or (got == "decline" and expected != "decline")


def run(part: str) -> tuple[list[tuple[Case, Reading, str]], int]:
    results = []
    for case in load(part):
        reading = read(message(case))
        results.append((case, reading, outcome(reading)))
    wrong = sum(1 for case, _, got in results if wrong_action(case.expected, got))
    return results, wrong


def matrix(results: list[tuple[Case, Reading, str]], lang: str | None) -> list[str]:
    rows = [(c, g) for c, _, g in results if lang is None or c.lang == lang]
    counts = collections.Counter((c.expected, g) for c, g in rows)
    width = 9
    lines = ["expected \\ read".ljust(16) + "".join(o.rjust(width) for o in OUTCOMES) + "    total"]
    for expected in OUTCOMES:
        total = sum(counts[(expected, o)] for o in OUTCOMES)
        if total:
            lines.append(expected.ljust(16) + "".join(str(counts[(expected, o)]).rjust(width) for o in OUTCOMES)
                         + str(total).rjust(9))
    right = sum(1 for c, g in rows if c.expected == g)
    lines.append(f"accuracy {right}/{len(rows)} = {right / max(len(rows), 1):.1%}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=PARTS, action="append")
    parser.add_argument("--show", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    out = sys.stdout
    total_wrong = 0
    for part in args.part or PARTS:
        results, wrong = run(part)
        total_wrong += wrong
        out.write(f"== {part}: {len(results)} replies, WRONG ACTIONS: {wrong}\n")
        for lang in ("id", "en", None):
            out.write(f"-- {lang or 'both languages'}\n")
            out.write("\n".join(matrix(results, lang)) + "\n")
        if args.show:
            for case, reading, got in results:
                if got != case.expected:
                    mark = "WRONG ACTION" if wrong_action(case.expected, got) else "miss"
                    text = str(case.entry.get("text") or case.entry.get("html") or "").split("\n\n")[0][:90]
                    out.write(f"{mark}: {case.id} expected {case.expected}, read {got} {reading.signals}: "
                              f"{text!r}\n")
        out.write("\n")
    return 1 if total_wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
