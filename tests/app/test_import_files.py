"""``tautan import`` with files that are not what it expects: one clear line naming the file, the
line and what is wrong, in the reader's language; nothing is invited from a file it cannot read."""

from __future__ import annotations

import pytest

from tautan.cli import main


@pytest.fixture
def run(engine, database_url, capsys, monkeypatch, tmp_path):  # noqa: ANN001, ANN201
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SENT_MAIL_DIR", str(tmp_path / "sent-mail"))
    monkeypatch.setenv("MAIL_DOMAIN", "connect.example.id")
    monkeypatch.setenv("LANG", "en_US.UTF-8")

    def run(*argv: str, code: int = 0) -> tuple[str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exited:
            main(list(argv))
        out, err = capsys.readouterr()
        assert exited.value.code == code, (out, err)
        return out, err

    run("company", "add", "PT A")
    return run


CASES = [
    ("latin1.csv", "email,supplier\nana@pt-maju.co.id,PT Maju\nbudi@pt-kopi.co.id,Café Kopi\n".encode("latin-1"),
     "latin1.csv, line 3: this line is not UTF-8 text"),
    ("binary.csv", b"email\nana@pt-maju.co.id\n\x00\x01\x02\x89PNG",
     "binary.csv, line 3: the file contains binary data"),
    ("long.csv", b'email,message\nana@pt-maju.co.id,"' + b"x" * 200_000 + b'"\n',
     "long.csv, line 2: a field is too long"),
    ("noemail.csv", b"name,supplier\nAna,PT Maju\n", "noemail.csv, line 1: there is no email column"),
    ("empty.csv", b"\n\n", "empty.csv: the file is empty"),
]


@pytest.mark.parametrize(("name", "data", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_file_gets_one_clear_line(run, tmp_path, name: str, data: bytes, message: str) -> None:  # noqa: ANN001
    sheet = tmp_path / name
    sheet.write_bytes(data)
    _, err = run("import", str(sheet), "--customer", "PT A", code=1)
    assert message in err and len(err.strip().splitlines()) == 1
    assert "Something went wrong" not in err
    out, _ = run("list", "--customer", "PT A", "--json")
    assert '"total": 0' in out  # nothing half-imported


def test_utf16_with_its_byte_order_mark_is_read(run, tmp_path) -> None:  # noqa: ANN001
    sheet = tmp_path / "unicode.csv"
    sheet.write_bytes("email,supplier\r\nana@pt-maju.co.id,Café Kopi\r\n".encode("utf-16"))
    out, _ = run("import", str(sheet), "--customer", "PT A")
    assert "1 invited" in out


def test_in_indonesian(run, tmp_path) -> None:  # noqa: ANN001
    sheet = tmp_path / "pemasok.csv"
    sheet.write_bytes(b"nama\nAna\n")
    _, err = run("--lang", "id", "import", str(sheet), "--customer", "PT A", code=1)
    assert "pemasok.csv, baris 1:" in err


def test_a_huge_page_number_is_a_usage_error(run) -> None:  # noqa: ANN001
    run("list", "--customer", "PT A", "--page", "99999999999999999999", code=2)
