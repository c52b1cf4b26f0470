"""``tautan import``: many invitations from a CSV file, one row at a time, with a progress bar.

Each row is its own unit of work: a bad row is reported with its line number and the others go
through. Rows already invited return the live invitation, so running the same file twice invites
nobody twice."""

from __future__ import annotations

import csv
from typing import Any

import click

from tautan.wiring import Container
from tautan.core import services
from tautan.core.errors import TautanError
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

    results: list[dict[str, Any]] = []
    with click.progressbar(body, label=t("Inviting"), show_pos=True, file=None if progress else _Null()) as bar:
        for line, row in bar:
            if not any(c.strip() for c in row):
                continue
            email = cell(row, "email")
            try:
                view = services.invite(container.uow(), customer=customer, unit=unit, email=email,
                                       types=(cell(row, "types") or types).replace(";", ",").split(","),
                                       lang=cell(row, "lang") or lang, message=cell(row, "message") or None,
                                       supplier_name=cell(row, "supplier") or None, actor=actor, via="cli")
            except TautanError as error:
                results.append({"line": line, "email": email, "status": "failed", "invitation_id": None,
                                "error": t.error(error)})
                continue
            results.append({"line": line, "email": view.email, "invitation_id": view.id, "error": None,
                            "status": "invited" if view.created or view.added_types else "existing"})
    return results


class _Null:
    def write(self, _: str) -> None:
        pass

    def flush(self) -> None:
        pass
