"""The channel notices of the supplier page's changes: a withdrawn request and an ended connection,
in both languages (a reconnect is a request, with its Approve/Deny buttons, as before)."""

from __future__ import annotations

from tautan.bot.notify import notice_message
from tautan.core.i18n import translator
from tautan.core.views import NoticeView as Notice


def notice(kind: str) -> Notice:
    return Notice(kind=kind, company_id=1, supplier="PT Maju <Bersama>", email=None, unit=None,
                  types=("invoice", "order"), reason=None, invitation_id=None)


def test_withdrawn_and_disconnected_notices() -> None:
    text, _ = notice_message(notice("withdrawn"), translator("en"))
    assert text == "*PT Maju &lt;Bersama&gt;* withdrew its request to connect for invoice and order."
    text, _ = notice_message(notice("disconnected"), translator("id"))
    assert text == "Koneksi dengan *PT Maju &lt;Bersama&gt;* untuk faktur dan pesanan telah berakhir."
