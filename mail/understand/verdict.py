"""What the reader says about one message: its kind, and for a bounce or a reply the details."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["bounce", "auto_reply", "human"]
Intent = Literal["accept", "decline", "confirm", "help", "status", "unclear"]
Language = Literal["en", "id"]



@dataclass(frozen=True)
class Bounce:
    """A delivery failure (or delay, or spam complaint) reported back to us."""

    recipients: tuple[str, ...]  # the addresses that failed, lower case; () when none was named
    status: str | None  # RFC 3463 enhanced status code, e.g. "5.1.1"
    permanent: bool  # False for delays and temporary (4.x.x) failures
    reason: str  # short, one line, for a human
    complaint: bool = False  # an ARF feedback report: the recipient called our mail spam


@dataclass(frozen=True)
class Reading:
    """What one inbound message is, and for a person's reply what it says."""

    kind: Kind
    bounce: Bounce | None
    text: str
    intent: Intent
    language: Language | None
    # For a person's reply (see intent.Understanding): what it leans to, the document types it
    # names for that and for the opposite, whether the others go the other way, what was seen,
    # and whether it is a bare yes/no (the answer to a confirmation question).
    lean: Literal["accept", "decline"] | None = None
    types: tuple[str, ...] = ()
    other_types: tuple[str, ...] = ()
    only: bool = False
    signals: tuple[str, ...] = ()
    yes_no: Literal["yes", "no"] | None = None
    firm: bool = False  # a clear answer whose only doubt is the document types it names
