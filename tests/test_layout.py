"""``core`` knows nothing of its drivers (STYLE.md): it imports nothing from bot/, mail/, app/,
and no Slack, SMTP, IMAP or web library. Checked on the source, every import of every module."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "core"
FORBIDDEN = {
    "app", "bot", "mail",
    "slack_bolt", "slack_sdk", "aiosmtpd", "smtplib", "imaplib", "imapclient", "poplib",
    "starlette", "uvicorn", "fastapi", "flask", "jinja2", "httpx", "requests", "urllib3",
    "http", "socket", "asyncio", "click", "typer", "dkim", "email",
}


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            names.add(str(node.args[0].value))
    return names


def forbidden_in_core(name: str) -> bool:
    """A driver library, or any part of the ``tautan`` package other than ``tautan.core``."""
    if name == "tautan" or (name.startswith("tautan.") and not name.startswith("tautan.core")):
        return True
    return name.split(".")[0] in FORBIDDEN


def test_core_imports_no_driver() -> None:
    modules = sorted(CORE.rglob("*.py"))
    assert len(modules) >= 6
    offenders = {
        f"{path.relative_to(CORE.parent)}: {name}"
        for path in modules for name in imports_of(path)
        if forbidden_in_core(name)
    }
    assert not offenders, offenders


def test_the_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("import os\nfrom slack_bolt import App\nfrom tautan.mail.links import sign\n", encoding="utf-8")
    assert {"slack_bolt", "tautan.mail.links"} <= imports_of(module)
    assert forbidden_in_core("tautan.mail.links") and forbidden_in_core("tautan.cli")
    assert not forbidden_in_core("tautan.core.model")
