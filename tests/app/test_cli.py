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
    assert "Riwayat:" in text and "disetujui (pesanan)" in text and "melalui baris perintah" in text

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
    (["show", "999"], "There is no invitation or connection with id 999.",
     "Tidak ada undangan maupun koneksi dengan ID 999."),
    (["show", "i999"], "There is no invitation with id 999.", "Tidak ada undangan dengan ID 999."),
    (["show", "c999"], "There is no connection with id 999.", "Tidak ada koneksi dengan ID 999."),
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
    (["invtie"], "Unknown command invtie. Did you mean invite? Try 'tautan --help'.",
     "Perintah invtie tidak dikenal. Apakah maksud Anda invite? Coba 'tautan --help'."),
    (["company", "lsit"], "Unknown command lsit. Did you mean list? Try 'tautan company --help'.",
     "Perintah lsit tidak dikenal. Apakah maksud Anda list? Coba 'tautan company --help'."),
    (["list", "--colour"], "Unknown option --colour. Try 'tautan list --help'.",
     "Opsi --colour tidak dikenal. Coba 'tautan list --help'."),
    (["invite", "a@b.id"], "Missing --customer. Try 'tautan invite --help'.",
     "--customer belum diisi. Coba 'tautan invite --help'."),
    (["list", "--status", "happy"], "--status must be one of: invited, requested, connected, rejected, cancelled, "
     "expired, disconnected. Try 'tautan list --help'.",
     "--status harus salah satu dari: invited, requested, connected, rejected, cancelled, expired, disconnected. "
     "Coba 'tautan list --help'."),
    (["list", "--page", "two"], "--page must be a whole number. Try 'tautan list --help'.",
     "--page harus berupa bilangan bulat. Coba 'tautan list --help'."),
    (["show", "abc"], "abc is not an id. Give a number as tautan list shows it: 12 (the invitation, else the "
     "connection), i12 (invitation) or c12 (connection). Try 'tautan show --help'.",
     "abc bukan ID. Berikan nomor seperti yang ditampilkan tautan list: 12 (undangan, atau koneksi jika tidak ada "
     "undangan dengan nomor itu), i12 (undangan), atau c12 (koneksi). Coba 'tautan show --help'."),
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
    assert "terkirim: 1 ·" in run("--lang", "id", "worker", "--once")
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


def test_approve_deny_disconnect_with_a_reason(run: Run, uow) -> None:  # noqa: ANN001
    from tautan.core import services
    from tests.support import factories as f

    f.companies(uow)
    f.invite(uow, types=("catalog",))  # the supplier gets a contact, who hears of every decision
    invoice, order = (c.id for c in services.request(uow, supplier=f.SUPPLIER, customer=f.CUSTOMER,
                                                     types=["invoice", "order"], actor=f.CONTACT, via="email"))

    assert "is now connected" in run("approve", str(invoice))
    denied = run.json("deny", str(order), "--reason", "Belum perlu pesanan elektronik.")
    assert denied["status"] == "rejected"
    out = run("disconnect", str(invoice), "--reason", "Kontrak selesai.")
    assert "no longer connected" in out
    run("approve", str(invoice), code=1)
    assert "You cannot approve a connection that is disconnected." in run.err
    run("deny", "999999", code=1)
    assert "There is no connection with id 999999." in run.err
    run("approve", str(order), "--reason", "x", code=2)

    history = {e.kind: dict(e.details) for e in services.history(uow, connection_id=order)}
    assert history["denied"]["reason"] == "Belum perlu pesanan elektronik."
    with uow:
        from sqlalchemy import select

        from tautan.core.model import Outbox

        news = [(r.payload["decision"], r.payload.get("reason")) for r in uow.session.scalars(
            select(Outbox).where(Outbox.kind == "decision").order_by(Outbox.id))]
    assert news == [("approved", None), ("denied", "Belum perlu pesanan elektronik."),
                    ("disconnected", "Kontrak selesai.")]


# --- a command line that helps ---------------------------------------------------------------

def test_invite_lang_is_the_invitation_language_not_the_output(run: Run) -> None:
    run("company", "add", "PT A")
    out = run("invite", "ana@pt-maju.co.id", "--customer", "PT A", "--lang", "id")
    assert "Document types: invoice" in out  # the operator still reads English
    assert "Language of the invitation: id" in out
    out = run("--lang", "id", "invite", "budi@toko.example.com", "--customer", "PT A", "--lang", "en")
    assert "Jenis dokumen: faktur" in out and "Bahasa undangan: en" in out


def test_company_list_and_show_and_the_slug(run: Run) -> None:
    run("company", "add", "PT Pelanggan Jaya")
    run("company", "add", "Keuangan", "--parent", "PT Pelanggan Jaya")
    listed = run.json("company", "list")
    assert [(c["name"], c["slug"]) for c in listed][:1] == [("PT Pelanggan Jaya", "pt-pelanggan-jaya")]
    assert any(c["name"] == "Keuangan" and c["parent_id"] == listed[0]["id"] for c in listed)
    text = run("company", "list")
    assert text.splitlines()[0].split() == ["ID", "Name", "Slug", "Role", "Language"]
    assert "pt-pelanggan-jaya" in text and "customer" in text
    shown = run("company", "show", "pt-pelanggan-jaya")
    assert "Company PT Pelanggan Jaya" in shown and "Units: Keuangan" in shown
    assert run.json("invite", "ana@pt-maju.co.id", "--customer", "pt-pelanggan-jaya")["customer"] == \
        "PT Pelanggan Jaya"
    assert "Perusahaan PT Pelanggan Jaya" in run("--lang", "id", "company", "show", "PT Pelanggan Jaya")


def test_list_says_which_id_is_which_and_show_takes_either(run: Run) -> None:
    run("company", "add", "PT A")
    run.json("invite", "x@filler.example.com", "--customer", "PT A", "--types", "catalog,order")
    invitation = run.json("invite", "ana@pt-maju.co.id", "--customer", "PT A", "--types", "invoice")
    connection_id = invitation["connections"][0]["id"]
    assert connection_id != invitation["id"]
    table = run("list", "--customer", "PT A", "--partner", "pt-maju")
    header, row = table.splitlines()[:2]
    assert header.split()[:2] == ["Conn", "Inv"]
    assert row.split()[:2] == [str(connection_id), str(invitation["id"])]
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$", row), "ISO times with the zone"
    assert "\x1b[" not in table, "no colour codes into a pipe"

    by_invitation = run("show", f"i{invitation['id']}")
    assert by_invitation.startswith(f"Invitation {invitation['id']} from PT A")
    assert f"Connection {connection_id} · invoice: invited" in by_invitation
    by_connection = run("show", f"c{connection_id}")
    assert by_connection.startswith(f"Connection {connection_id}: PT A and ")
    assert "Status: invited" in by_connection and "invited (invoice) · by " in by_connection
    assert run.json("show", f"c{connection_id}")["kind"] == "connection"
    # A bare number is the invitation when there is one, else the connection; the output says which.
    assert run.json("show", str(invitation["id"]))["kind"] == "invitation"
    assert run("show", str(connection_id)).startswith(f"Connection {connection_id}:")


def test_history_names_people_not_actor_ids(run: Run) -> None:
    run("company", "add", "PT A")
    invitation = run.json("invite", "ana@pt-maju.co.id", "--customer", "PT A")
    run("accept", str(invitation["id"]))
    text = run("--lang", "id", "show", str(invitation["id"]))
    assert "cli:" not in text and "email:" not in text
    assert re.search(r"\d{1,2} \w{3} \d{4} \d{2}\.\d{2} UTC · ", text), "Babel medium with the zone"


def test_colour_on_a_terminal_only(run: Run) -> None:
    """Plain into pipes (above); on a terminal the status has its colour; NO_COLOR keeps it plain."""
    run("company", "add", "PT A")
    run("invite", "ana@pt-maju.co.id", "--customer", "PT A")
    run.monkeypatch.setenv("FORCE_COLOR", "1")  # what a terminal gets
    run.monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\x1b[33m" in run("list", "--customer", "PT A")  # invited, in yellow
    run.monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[33m" not in run("list", "--customer", "PT A")


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
