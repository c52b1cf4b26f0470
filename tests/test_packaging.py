"""What ``pip install`` puts on a machine: exactly one import package, ``tautan``, with its
catalogs, templates and migrations, working from any directory (no generic top-level ``core``,
``app``, ``mail``, ``bot``, ``bench``, ``locales`` or ``migrations`` to collide with)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(ROOT)], check=True, capture_output=True, cwd=out)
    return next(out.glob("tautan-*.whl"))


def test_the_wheel_holds_one_top_level_package_with_its_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"tautan"}
    assert "tautan/locales/id/LC_MESSAGES/messages.po" in names
    assert "tautan/migrations/env.py" in names and any(n.startswith("tautan/migrations/versions/0001") for n in names)
    assert "tautan/mail/templates/email/invitation.html" in names
    folders = {"app": "tautan", "core": "tautan/core", "mail": "tautan/mail", "bot": "tautan/bot",
               "locales": "tautan/locales", "migrations": "tautan/migrations"}
    for folder, installed in folders.items():
        for module in (ROOT / folder).rglob("*.py"):
            assert f"{installed}/{module.relative_to(ROOT / folder).as_posix()}" in names, module
    assert not any(name.startswith(("tests/", "bench/")) for name in names)


def test_a_plain_install_runs_the_demo_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "DATABASE_URL": f"sqlite:///{elsewhere / 'demo.db'}",
           "SENT_MAIL_DIR": str(elsewhere / "sent-mail"), "LANG": "en_US.UTF-8"}
    env.pop("LC_ALL", None)

    def python(code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True,
                              timeout=120)

    where = python("import tautan; print(tautan.__file__)")
    assert where.returncode == 0 and where.stdout.startswith(str(site)), where
    demo = python("from tautan.cli import main; main(['demo', '--no-serve'])")
    assert demo.returncode == 0, demo.stderr
    assert "tautan show" in demo.stdout
    assert list((elsewhere / "sent-mail" / "new").iterdir()), "the invitation email went to the maildir"
    for generic in ("core", "app", "mail", "bot", "bench", "locales", "migrations"):
        found = python(f"import {generic}")
        assert found.returncode != 0 and "ModuleNotFoundError" in found.stderr, generic
