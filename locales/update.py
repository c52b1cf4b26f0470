"""Refresh the catalogs from the code: ``python -m locales.update``.

Extracts the messages into ``messages.pot`` and merges them into the English and Indonesian
catalogs (new entries arrive untranslated; the catalog test then says which ones need words).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KEYWORDS = ["N_", "t", "gettext", "_", "ngettext:1,2", "N_plural:1,2"]


def main() -> None:
    pot = HERE / "messages.pot"
    keywords = [arg for k in KEYWORDS for arg in ("-k", k)]
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"),
                    "--no-default-keywords", *keywords, "--sort-by-file", "--no-wrap", "--project", "tautan",
                    "--version", "0.1", "--copyright-holder", "the tautan developers",
                    "--msgid-bugs-address", "dev@tautan.invalid", "-o", str(pot.relative_to(ROOT)), "."],
                   check=True, cwd=ROOT)
    for locale in ("en", "id"):
        po = HERE / locale / "LC_MESSAGES" / "messages.po"
        action = "update" if po.exists() else "init"
        subprocess.run([sys.executable, "-m", "babel.messages.frontend", action, "-i", str(pot.relative_to(ROOT)),
                        "-d", str(HERE.relative_to(ROOT)),
                        "-l", locale, "--no-wrap", *(["--ignore-obsolete", "--no-fuzzy-matching"]
                                                      if action == "update" else [])], check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
