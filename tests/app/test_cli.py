"""The ``tautan`` command line, run in-process against the real database."""

from __future__ import annotations

import json
import re
import socket

import pytest

from tautan.cli import main
from tautan.mail.links import INVITATION_PAGE, unsign


class Run:
    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
        self.capsys, self.monkeypatch = capsys, monkeypatch

    def __call__(self, *argv: str, code: int = 0) -> str:
        self.capsys.readouterr()
        with pytest.raises(SystemExit) as exited:
            main(list(argv))
        out, err = self.capsys.readouterr()
        assert exited.value.code == code, (out, err)
        self.err = err
        return out

    def json(self, *argv: str) -> object:
        return json.loads(self(*argv, "--json"))


@pytest.fixture
def run(engine, database_url, capsys, monkeypatch, tmp_path) -> Run:  # noqa: ANN001
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SENT_MAIL_DIR", str(tmp_path / "sent-mail"))
    monkeypatch.setenv("SECRET_KEY", "new-key,old-key")
    monkeypatch.setenv("MAIL_DOMAIN", "connect.example.id")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    return Run(capsys, monkeypatch)


def test_invite_list_show_accept(run: Run) -> None:
    run("company", "add", "PT Pelanggan Jaya", "--customer")
    run("company", "add", "Keuangan", "--parent", "PT Pelanggan Jaya")
    invitation = run.json("invite", "Ana@PT-Maju.co.id", "--customer", "PT Pelanggan Jaya", "--unit", "Keuangan",
                          "--types", "order,invoice", "--lang", "id", "--message", "Mohon bergabung",
                          "--supplier-name", "PT Maju")
    assert invitation["status"] == "pending" and invitation["email"] == "ana@pt-maju.co.id"
    assert invitation["types"] == ["order", "invoice"] and invitation["lang"] == "id"
    token = invitation["connections"][0]["invitation_id"]
    assert token == invitation["id"]
    assert invitation["reply_to"].startswith("connect+") and invitation["reply_to"].endswith("@connect.example.id")
    signed = invitation["link"].rsplit("/i/", 1)[1]
    assert unsign(["new-key"], INVITATION_PAGE, signed) is not None
    assert unsign(["other-key"], INVITATION_PAGE, signed) is None

    again = run.json("invite", "ana@pt-maju.co.id", "--customer", "PT Pelanggan Jaya", "--unit", "Keuangan",
                     "--types", "invoice")
    assert again["id"] == invitation["id"] and again["created"] is False

    listing = run.json("list", "--customer", "PT Pelanggan Jaya", "--status", "invited")
    assert listing["total"] == 2 and {i["type"] for i in listing["items"]} == {"order", "invoice"}
    text = run("list", "--customer", "PT Pelanggan Jaya", "--partner", "maju")
    assert "PT Maju" in text and "invited" in text and "Page 1 of 1" in text

    out = run("accept", str(invitation["id"]))
    assert "PT Maju is now connected to PT Pelanggan Jaya / Keuangan" in out
    shown = run.json("show", str(invitation["id"]))
    assert shown["status"] == "accepted"
    assert [h["kind"] for h in shown["history"]] == ["invited", "invited", "accepted", "accepted"]
    text = run("show", str(invitation["id"]), "--lang", "id")
    assert "Riwayat:" in text and "diterima (pesanan)" in text and "melalui baris perintah" in text

    run("cancel", str(invitation["id"]), code=1)
    assert run.err.strip() == "This invitation is already closed: accepted."
    assert "\n" not in run.err.strip() and "Traceback" not in run.err


@pytest.mark.parametrize(("argv", "english", "indonesian"), [
    (["invite", "not-an-email", "--customer", "PT A"], "not-an-email is not a valid email address.",
     "not-an-email bukan alamat email yang valid."),
    (["invite", "a@b.co.id", "--customer", "Nobody"], "There is no company called Nobody.",
     "Tidak ada perusahaan bernama Nobody."),
    (["invite", "a@b.co.id", "--customer", "PT A", "--types", "receipt"],
     "Unknown document type receipt. Known types: catalog, order, and invoice.",
     "Jenis dokumen receipt tidak dikenal. Jenis yang tersedia: catalog, order, dan invoice."),
    (["show", "999"], "There is no invitation with id 999.", "Tidak ada undangan dengan id 999."),
    (["company", "add", "PT A"], "A company named PT A already exists.", "Perusahaan bernama PT A sudah ada."),
])
def test_user_errors_are_one_localized_line(run: Run, argv: list[str], english: str, indonesian: str) -> None:
    run("company", "add", "PT A")
    run(*argv, code=1)
    assert run.err == english + "\n"
    run("--lang", "id", *argv, code=1)
    assert run.err == indonesian + "\n"
    run.monkeypatch.setenv("LANG", "id_ID.UTF-8")
    run(*argv, code=1)
    assert run.err == indonesian + "\n"


@pytest.mark.parametrize(("argv", "english", "indonesian"), [
    (["frobnicate"], "Unknown command frobnicate. Try 'tautan --help'.",
     "Perintah frobnicate tidak dikenal. Coba 'tautan --help'."),
    (["list", "--colour"], "Unknown option --colour. Try 'tautan list --help'.",
     "Opsi --colour tidak dikenal. Coba 'tautan list --help'."),
    (["invite", "a@b.id"], "Missing --customer. Try 'tautan invite --help'.",
     "--customer belum diisi. Coba 'tautan invite --help'."),
    (["list", "--status", "happy"], "Invalid value for --status. Try 'tautan list --help'.",
     "Nilai untuk --status tidak valid. Coba 'tautan list --help'."),
    (["show", "abc"], "Invalid value for ID. Try 'tautan show --help'.",
     "Nilai untuk ID tidak valid. Coba 'tautan show --help'."),
    (["list", "--customer", "A", "--supplier", "B"],
     "Use --customer or --supplier, not both. Try 'tautan list --help'.",
     "Gunakan --customer atau --supplier, jangan keduanya. Coba 'tautan list --help'."),
])
def test_usage_errors_exit_2_localized(run: Run, argv: list[str], english: str, indonesian: str) -> None:
    run(*argv, code=2)
    assert run.err == english + "\n"
    run.monkeypatch.setenv("LC_ALL", "id_ID.UTF-8")
    run(*argv, code=2)
    assert run.err == indonesian + "\n"


def test_help_is_localized(run: Run) -> None:
    assert "Invite a supplier contact to connect." in run("--help")
    text = run("--lang", "id", "invite", "--help")
    assert "Penggunaan: tautan invite [OPSI] EMAIL" in text
    assert "Bahasa undangan (en atau id)." in text and "Tampilkan pesan ini lalu keluar." in text


def test_an_unmigrated_database_says_what_to_do(run: Run, tmp_path) -> None:  # noqa: ANN001
    run.monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    run("list", code=1)
    assert run.err == "The database is not set up yet. Run: tautan db upgrade\n"
    assert "up to date" in run("db", "upgrade")
    assert "No connections match." in run("list")


def test_a_database_that_is_down_is_a_clear_message(run: Run) -> None:
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run.monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://postgres:s3cret@127.0.0.1:{port}/test")
    run("list", code=1)
    assert run.err == "The service is temporarily unavailable. Please try again in a few minutes.\n"
    assert "s3cret" not in run.err
    run("db", "upgrade", code=1)
    assert "temporarily unavailable" in run.err


def test_demo_runs_again_and_again(run: Run, tmp_path) -> None:  # noqa: ANN001
    first = run("demo", "--no-serve")
    assert "Step 4 of 4" in first and "connected" in first and "Done." in first
    mail = re.search(r"The email is in the local maildir: (\S+)", first).group(1)
    assert mail.startswith(str(tmp_path / "sent-mail" / "new"))
    second = run("--lang", "id", "demo", "--no-serve")
    assert "Langkah 4 dari 4" in second and "terhubung" in second
    assert len(list((tmp_path / "sent-mail" / "new").iterdir())) == 4  # 2 invitations, 2 confirmations


def test_resend_and_worker(run: Run, tmp_path) -> None:  # noqa: ANN001
    run("company", "add", "PT A")
    invitation = run.json("invite", "ana@pt-maju.co.id", "--customer", "PT A")
    assert "sent 1," in run("worker", "--once")
    assert "will be sent again" in run("resend", str(invitation["id"]))
    assert "terkirim 1," in run("--lang", "id", "worker", "--once")
    assert len(list((tmp_path / "sent-mail" / "new").iterdir())) == 2


def test_import_invites_many_and_reports_bad_lines(run: Run, tmp_path) -> None:  # noqa: ANN001
    run("company", "add", "PT A")
    sheet = tmp_path / "pemasok.csv"
    sheet.write_text("email,supplier,types,lang,message\n"
                     "ana@pt-maju.co.id,PT Maju,invoice;order,id,Mohon bergabung\n"
                     "not-an-address,PT Salah,,,\n"
                     "\n"
                     "sales@acme.example.com,Acme,catalog,,\n", encoding="utf-8")
    out = run("import", str(sheet), "--customer", "PT A", code=1)
    assert "2 invited, 0 already invited, 1 not imported." in out
    assert "Line 3: not-an-address is not a valid email address." in run.err
    again = run.json("import", str(sheet), "--customer", "PT A")
    assert [r["status"] for r in again] == ["existing", "failed", "existing"]
    listing = run.json("list", "--customer", "PT A")
    assert listing["total"] == 3
    run("--lang", "id", "import", str(sheet), "--customer", "PT A", code=1)
    assert "Baris 3:" in run.err


def test_company_set_and_link(run: Run, tmp_path) -> None:  # noqa: ANN001
    run("company", "add", "PT Pelanggan Jaya", "--customer")
    run("company", "add", "Gudang Jakarta", "--parent", "PT Pelanggan Jaya")
    out = run("company", "set", "PT Pelanggan Jaya", "--listed", "--peppol-id", "0195:ID123", "--invoice-email",
              "faktur@pelanggan.co.id", "--contact", "ap@pelanggan.co.id", "--lang", "id", "--instructions",
              "Sebutkan nomor PO.")
    assert "PT Pelanggan Jaya" in out
    profile = run.json("company", "set", "PT Pelanggan Jaya", "--receive", "catalog=portal", "--portal-url",
                       "https://portal.pelanggan.co.id")
    assert profile["listed"] and profile["peppol_id"] == "0195:id123"
    assert profile["receive"] == {"catalog": "portal"}
    assert profile["texts"]["instructions"] == {"id": "Sebutkan nomor PO."}
    run("company", "set", "PT Pelanggan Jaya", "--peppol-id", "nope", code=1)
    assert "PEPPOL" in run.err and len(run.err.strip().splitlines()) == 1
    run("company", "set", "PT Pelanggan Jaya", "--receive", "invoice=fax", code=1)

    qr = tmp_path / "join.svg"
    out = run("link", "PT Pelanggan Jaya", "--unit", "Gudang Jakarta", "--qr", str(qr))
    lines = out.splitlines()
    assert "http://127.0.0.1:8000/join/pt-pelanggan-jaya/gudang-jakarta" in lines  # on a line of its own
    assert "request+pt-pelanggan-jaya-gudang-jakarta@connect.example.id" in out
    assert qr.read_text().lstrip().startswith("<?xml") and "<svg" in qr.read_text()
    data = run.json("link", "PT Pelanggan Jaya", "--qr", str(tmp_path / "join.png"))
    assert data["url"].endswith("/join/pt-pelanggan-jaya")
    assert (tmp_path / "join.png").read_bytes().startswith(b"\x89PNG")
    run("link", "PT Pelanggan Jaya", "--qr", str(tmp_path / "join.gif"), code=1)
    run("link", "Nobody", code=1)
