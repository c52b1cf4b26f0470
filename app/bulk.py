"""``tautan import``: many invitations from a CSV file, with a progress bar.

Reading the file and inviting are apart: ``import_invitations`` reads the rows, ``invite_rows``
hands them to ``services.invite_many``, which inserts them in bulk, a chunk per transaction. A bad
row is reported with its line number and the others go through. Rows already invited return the
live invitation, so running the same file twice invites nobody twice."""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Sequence
from typing import Any, TextIO, cast

import click

from tautan.core import services
from tautan.core.errors import InvalidInput
from tautan.core.i18n import N_, Translator
from tautan.core.services import InviteRow
from tautan.wiring import Container

COLUMNS = {"email": ("email", "e-mail", "alamat email"), "supplier": ("supplier", "supplier name", "pemasok",
                                                                     "nama pemasok"),
           "types": ("types", "type", "jenis"), "lang": ("lang", "language", "bahasa"),
           "message": ("message", "pesan")}


def import_invitations(container: Container, path: str, *, customer: str, unit: str | None, types: str,
                       lang: str | None, actor: str, t: Translator, progress: bool) -> list[dict[str, Any]]:
    index, body = read_sheet(path)

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
                           file=None if progress else cast(TextIO, _Null())) as bar:
        invited = services.invite_many(container.uow(), customer=customer, unit=unit, rows=[r for _, r in rows],
                                       actor=actor, via="cli", progress=bar.update)
    results: list[dict[str, Any]] = []
    for (line, row), result in zip(rows, invited, strict=False):
        if result.error is not None:
            results.append({"line": line, "email": row.email, "status": "failed", "invitation_id": None,
                            "error": t.error(result.error)})
        else:
            results.append({"line": line, "email": result.email, "invitation_id": result.invitation_id,
                            "error": None, "status": "invited" if result.invited else "existing"})
    return results


# --- reading and checking the file (apart from inviting, so either can change alone) ------------

# Far above any real cell (a message is at most 2,000 characters), far below what would hurt.
MAX_FIELD = 64 * 1024
HEADERLESS = {"email": 0, "supplier": 1, "types": 2, "lang": 3, "message": 4}


def read_sheet(path: str) -> tuple[dict[str, int | None], list[tuple[int, list[str]]]]:
    """The column positions and the numbered rows of a CSV file, or ``InvalidInput`` naming the file,
    the line and what is wrong: not text, not UTF-8 (or UTF-16 with its byte order mark), a field
    over the limit, or a header row without an email column."""
    name = os.path.basename(path)
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        raise InvalidInput(N_("{file}: the file cannot be read ({reason})."), file=name,
                           reason=error.strerror or error.__class__.__name__) from None
    text = _decode(data, name)
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    previous = csv.field_size_limit(MAX_FIELD)
    try:
        rows = list(reader)
    except csv.Error as error:
        line = reader.line_num or 1
        if "field larger than field limit" in str(error):
            raise _problem(name, line, N_("{file}, line {line}: a field is too long (a cell holds at most "
                                          "64 KiB; check the quotes on this line).")) from None
        raise _problem(name, line, N_("{file}, line {line}: this line is not valid CSV.")) from None
    finally:
        csv.field_size_limit(previous)
    first = next((i for i, row in enumerate(rows) if any(c.strip() for c in row)), None)
    if first is None:
        raise InvalidInput(N_("{file}: the file is empty."), file=name)
    header = [cell.strip().lower() for cell in rows[first]]
    index = {key: next((header.index(n) for n in names if n in header), None) for key, names in COLUMNS.items()}
    if index["email"] is not None:
        return index, [(i + 1, row) for i, row in enumerate(rows) if i > first]
    if "@" in (rows[first][0] if rows[first] else ""):  # no header row: the first column is the address
        return dict(HEADERLESS), [(i + 1, row) for i, row in enumerate(rows)]
    raise _problem(name, first + 1, N_("{file}, line {line}: there is no email column. The first line must name "
                                       "the columns, for example: email,supplier,types,lang,message"))


def _decode(data: bytes, name: str) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # "Unicode text" from spreadsheets
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise _problem(name, _line_of(data, error.start, wide=True),
                           N_("{file}, line {line}: this line is not valid UTF-16 text.")) from None
    if b"\0" in data:
        raise _problem(name, _line_of(data, data.index(b"\0")),
                       N_("{file}, line {line}: the file contains binary data, not CSV text. "
                          "Save it as CSV UTF-8."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _problem(name, _line_of(data, error.start),
                       N_("{file}, line {line}: this line is not UTF-8 text (perhaps Latin-1 or Windows-1252). "
                          "Save the file as CSV UTF-8.")) from None


def _line_of(data: bytes, offset: int, *, wide: bool = False) -> int:
    return data[:offset].count(b"\n\0" if wide else b"\n") + 1


def _problem(name: str, line: int, problem: str, **params: object) -> InvalidInput:
    return InvalidInput(problem, file=name, line=line, **params)


class _Null:
    def write(self, _: str) -> None:
        pass

    def flush(self) -> None:
        pass
