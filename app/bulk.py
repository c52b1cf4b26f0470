"""``tautan import``: many invitations from a CSV file, with a progress bar.

Reading the file and inviting are apart: ``import_invitations`` reads the rows, ``invite_rows``
hands them to ``services.invite_many``, which inserts them in bulk, a chunk per transaction. A bad
row is reported with its line number and the others go through. Rows already invited return the
live invitation, so running the same file twice invites nobody twice."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import Any

import click

from tautan.wiring import Container
from tautan.core import services
from tautan.core.services import InviteRow
from tautan.core.i18n import Translator

COLUMNS = {"email": ("email", "e-mail", "alamat email"), "supplier": ("supplier", "supplier name", "pemasok",
                                                                     "nama pemasok"),
           "types": ("types", "type", "jenis"), "lang": ("lang", "language", "bahasa"),
           "message": ("message", "pesan")}


def import_invitations(container: Container, path: str, *, customer: str, unit: str | None, types: str,
                       lang: str | None, actor: str, t: Translator, progress: bool) -> list[dict[str, Any]]:
    with open(path, newline="", encoding="utf-8-sig") as file:
        rows = list(csv.reader(file))
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    index = {key: next((header.index(n) for n in names if n in header), None) for key, names in COLUMNS.items()}
    if index["email"] is None:  # no header row: the first column is the address
        index = {"email": 0, "supplier": 1, "types": 2, "lang": 3, "message": 4}
        body = list(enumerate(rows, start=1))
    else:
        body = list(enumerate(rows[1:], start=2))

    def cell(row: list[str], key: str) -> str:
        position = index.get(key)
        return row[position].strip() if position is not None and position < len(row) else ""

    rows = [(line, InviteRow(email=cell(row, "email"),
                             types=(cell(row, "types") or types).replace(";", ",").split(","),
                             lang=cell(row, "lang") or lang, message=cell(row, "message") or None,
                             supplier_name=cell(row, "supplier") or None))
            for line, row in body if any(c.strip() for c in row)]
    return invite_rows(container, rows, customer=customer, unit=unit, actor=actor, t=t, progress=progress)


def invite_rows(container: Container, rows: Sequence[tuple[int, InviteRow]], *, customer: str, unit: str | None,
                actor: str, t: Translator, progress: bool) -> list[dict[str, Any]]:
    """Insert the rows read from the file (line number, row), in bulk, with a progress bar; one
    result per row, a failed one with its localized error."""
    with click.progressbar(length=len(rows), label=t("Inviting"), show_pos=True,
                           file=None if progress else _Null()) as bar:
        invited = services.invite_many(container.uow(), customer=customer, unit=unit, rows=[r for _, r in rows],
                                       actor=actor, via="cli", progress=bar.update)
    results: list[dict[str, Any]] = []
    for (line, row), result in zip(rows, invited):
        if result.error is not None:
            results.append({"line": line, "email": row.email, "status": "failed", "invitation_id": None,
                            "error": t.error(result.error)})
        else:
            results.append({"line": line, "email": result.email, "invitation_id": result.invitation_id,
                            "error": None, "status": "invited" if result.invited else "existing"})
    return results


class _Null:
    def write(self, _: str) -> None:
        pass

    def flush(self) -> None:
        pass
