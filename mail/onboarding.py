"""What a supplier reads once connected: how the customer wants each document type, whom to
contact, the customer's own instructions, in the supplier's language (for emails and pages)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tautan.core.i18n import Translator
from tautan.core.views import DOCUMENT_TYPE_LABELS


@dataclass(frozen=True)
class Onboarding:
    intro: str
    ways: tuple[str, ...]
    instructions: str | None
    contact: str | None


def onboarding_text(t: Translator, data: Mapping[str, Any] | None, *, customer: str) -> Onboarding:
    data = data or {}
    customer = str(data.get("customer") or customer)
    ways = []
    for way in data.get("ways") or ():
        code, value = str(way.get("type", "")), str(way.get("value", ""))
        label = t(DOCUMENT_TYPE_LABELS[code].message_id) if code in DOCUMENT_TYPE_LABELS else code
        method = way.get("method")
        if method == "peppol":
            ways.append(t("Send each {type} through PEPPOL to participant id {value}.", type=label, value=value))
        elif method == "email":
            ways.append(t("Send each {type} by email to {value}.", type=label, value=value))
        elif method == "portal":
            ways.append(t("Upload each {type} on the customer's portal at {value}.", type=label, value=value))
    texts = data.get("instructions") or {}
    # The supplier's language first; the other language rather than nothing.
    instructions = texts.get(t.locale) or next(iter(texts.values()), None)
    contact = data.get("contact")
    if ways or instructions:
        intro = t("How to send your documents to {customer}:", customer=customer)
        contact_line = t("Questions? Contact {contact}.", contact=contact) if contact else None
    elif contact:
        intro = t("{customer} has not yet said how it wants to receive documents.", customer=customer)
        contact_line = t("Please contact {contact} to agree on it.", contact=contact)
    else:
        intro = t("{customer} has not yet said how it wants to receive documents.", customer=customer)
        contact_line = t("Please ask your contact at {customer} how to send them.", customer=customer)
    return Onboarding(intro=intro, ways=tuple(ways), instructions=instructions, contact=contact_line)
