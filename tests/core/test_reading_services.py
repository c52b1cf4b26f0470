"""Services for the email reader: answering part of an invitation, and confirmation questions."""

from __future__ import annotations

import pytest

from tautan.core import services
from tautan.core.errors import InvalidInput, InvitationClosed, InvitationExpired
from tautan.core.events import EventKind
from tautan.core.views import EVENT_LABELS
from tests.support import factories as f

ACTOR = "email:ana@pt-maju.co.id"


@pytest.fixture
def invitation(uow):  # noqa: ANN001, ANN201
    f.companies(uow)
    return f.invite(uow, types=("order", "invoice", "catalog"), lang="id")


def _types(uow, invitation) -> dict[str, str]:  # noqa: ANN001
    return {c.type: c.status for c in services.get_invitation(uow, invitation_id=invitation.id).connections}


def test_answer_types_connects_only_the_accepted_types(uow, invitation) -> None:  # noqa: ANN001
    view = services.answer_types(uow, reply_token=invitation.reply_token, accept=["invoice"], decline=["order"],
                                 actor=ACTOR, via="email")
    assert view.status == "pending"  # the catalog is still open
    assert _types(uow, invitation) == {"invoice": "connected", "order": "rejected", "catalog": "invited"}
    view = services.answer_types(uow, reply_token=invitation.reply_token, accept=[], decline=["catalog"],
                                 actor=ACTOR, via="email")
    assert view.status == "accepted" and view.closed_at is not None
    kinds = [e.kind for e in services.history(uow, invitation_id=invitation.id)]
    assert kinds.count("accepted") == 1 and kinds.count("declined") == 2


def test_answer_types_all_declined_closes_as_declined(uow, invitation) -> None:  # noqa: ANN001
    view = services.answer_types(uow, reply_token=invitation.reply_token, accept=[],
                                 decline=["invoice", "order", "catalog"], actor=ACTOR, via="email")
    assert view.status == "declined"


@pytest.mark.parametrize(("accept", "decline"), [(["invoice"], ["invoice"]), ([], []), (["nothing"], [])])
def test_answer_types_refuses_what_does_not_fit(uow, invitation, accept, decline) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput):
        services.answer_types(uow, reply_token=invitation.reply_token, accept=accept, decline=decline,
                              actor=ACTOR, via="email")
    assert set(_types(uow, invitation).values()) == {"invited"}


def test_answer_types_respects_closed_invitations(uow, invitation) -> None:  # noqa: ANN001
    services.accept(uow, reply_token=invitation.reply_token, actor=ACTOR, via="email")
    with pytest.raises(InvitationClosed):
        services.answer_types(uow, reply_token=invitation.reply_token, accept=["invoice"], decline=[],
                              actor=ACTOR, via="email")



def test_answer_types_after_expiry(uow, invitation, clock) -> None:  # noqa: ANN001
    clock.advance(days=31)
    with pytest.raises(InvitationExpired):
        services.answer_types(uow, reply_token=invitation.reply_token, accept=["invoice"], decline=[],
                              actor=ACTOR, via="email")


def test_pending_confirmation_is_the_latest_unanswered_question(uow, invitation) -> None:  # noqa: ANN001
    token = invitation.reply_token
    assert services.pending_confirmation(uow, reply_token=token) is None
    services.ask_confirmation(uow, reply_token=token, intent="accept", accept=["invoice"], decline=["order"],
                              text="setuju untuk faktur saja", actor=ACTOR, via="email", lang="id")
    pending = services.pending_confirmation(uow, reply_token=token)
    assert pending is not None and (pending.intent, pending.accept, pending.decline) == (
        "accept", ("invoice",), ("order",))
    services.answer_confirmation(uow, reply_token=token, confirmed=False, text="tidak", actor=ACTOR, via="email")
    assert services.pending_confirmation(uow, reply_token=token) is None
    events = [e for e in services.history(uow, invitation_id=invitation.id)
              if e.kind in ("confirmation_asked", "confirmation_answered")]
    assert [e.details.get("excerpt") for e in events] == ["setuju untuk faktur saja", "tidak"]


def test_ask_confirmation_needs_an_intent(uow, invitation) -> None:  # noqa: ANN001
    with pytest.raises(ValueError):
        services.ask_confirmation(uow, reply_token=invitation.reply_token, intent="unclear", accept=[], decline=[],
                                  text="", actor=ACTOR, via="email", lang="id")


def test_record_reading_keeps_a_short_excerpt(uow, invitation) -> None:  # noqa: ANN001
    services.record_reading(uow, reply_token=invitation.reply_token, outcome="unclear", text="kata " * 200,
                            signals=["discussion"], actor=ACTOR, via="email")
    [event] = [e for e in services.history(uow, invitation_id=invitation.id) if e.kind == "reply_read"]
    assert len(event.details["excerpt"]) <= 300 and event.details["signals"] == ["discussion"]


def test_reading_events_have_labels() -> None:
    for kind in (EventKind.REPLY_READ, EventKind.CONFIRMATION_ASKED, EventKind.CONFIRMATION_ANSWERED):
        assert kind in EVENT_LABELS
