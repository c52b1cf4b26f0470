"""The layout holds (DESIGN.md §2, STYLE.md): one import package, ``tautan``; dependencies run one
way — the composition root may import everything, ``tautan.mail`` and ``tautan.bot`` import
``tautan.core`` and never each other nor the root, ``tautan.core`` imports no adapter and no
driver library — with no import cycle anywhere, counting imports inside functions; and no adapter
touches SQLAlchemy.

Checked on the source files themselves, every import statement of every module (including the
ones inside functions and ``import_module("...")`` calls), so the check does not depend on how
the package was installed."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Repository folder -> the import package it is installed as (pyproject.toml's package-dir).
PACKAGES = {"app": "tautan", "core": "tautan.core", "mail": "tautan.mail", "bot": "tautan.bot",
            "locales": "tautan.locales", "migrations": "tautan.migrations"}
DRIVERS = {
    "slack_bolt", "slack_sdk", "aiosmtpd", "smtplib", "imaplib", "imapclient", "poplib",
    "starlette", "uvicorn", "fastapi", "flask", "jinja2", "httpx", "requests", "urllib3",
    "http", "socket", "asyncio", "click", "typer", "dkim", "email",
}


def modules() -> dict[str, Path]:
    """Every module of the package: its dotted name -> its file."""
    found: dict[str, Path] = {}
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def imports_of(path: Path, name: str = "", known: frozenset[str] = frozenset()) -> set[str]:
    """Every module ``path`` imports, absolute; ``name`` (the module's own) resolves relative ones.
    ``from package import name`` counts as importing ``package.name`` when that is a module of
    ``known``, else ``package`` (as grimp and import-linter count it)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            for alias in node.names:
                names.add(f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            names.add(str(node.args[0].value))
    return names


def layer(module: str) -> str:
    for part in ("core", "mail", "bot"):
        if module == f"tautan.{part}" or module.startswith(f"tautan.{part}."):
            return part
    return "root" if module == "tautan" or module.startswith("tautan.") else "outside"


def graph() -> dict[str, set[str]]:
    """Module -> the modules of the package it imports."""
    known = modules()
    edges: dict[str, set[str]] = {}
    for name, path in known.items():
        edges[name] = {target for target in imports_of(path, name, frozenset(known))
                       if target in known and target != name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def violations(edges: dict[str, set[str]], names: dict[str, Path]) -> Iterator[str]:
    allowed = {"core": {"core"}, "mail": {"core", "mail"}, "bot": {"core", "bot"}}
    for module, targets in edges.items():
        own = layer(module)
        for target in targets:
            if own in allowed and layer(target) not in allowed[own]:
                yield f"{module} imports {target}"
    for module, path in names.items():
        own = layer(module)
        for top in sorted({imported.split(".")[0] for imported in imports_of(path, module)}):
            if own == "core" and top in DRIVERS:
                yield f"{module} imports the driver library {top}"
            if own in ("mail", "bot") and top == "sqlalchemy":
                yield f"{module} imports SQLAlchemy (adapters go through the services and the read side)"


def test_there_is_one_package_and_every_folder_is_in_it() -> None:
    names = modules()
    assert {"tautan", "tautan.core", "tautan.mail", "tautan.bot", "tautan.cli"} <= set(names)
    assert all(name == "tautan" or name.startswith("tautan.") for name in names)


def test_dependencies_run_one_way() -> None:
    found = sorted(violations(graph(), modules()))
    assert not found, "\n".join(found)


def test_there_is_no_import_cycle() -> None:
    found = cycles(graph())
    assert not found, "\n".join(" <-> ".join(c) for c in found)


def test_no_adapter_touches_the_session() -> None:
    offenders = [f"{path.relative_to(ROOT)}:{number}" for folder in ("mail", "bot")
                 for path in sorted((ROOT / folder).rglob("*.py"))
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                 if ".session" in line and "uow" in line]
    assert not offenders, offenders


# --- the checks themselves catch what they should ----------------------------------------------

def test_the_checks_catch_a_forbidden_import_a_cycle_and_sqlalchemy(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("import os\nfrom slack_bolt import App\n\ndef f():\n    from tautan.mail.links import sign\n"
                      "    from . import sibling\n", encoding="utf-8")
    known = frozenset({"tautan.core.sibling"})
    assert {"slack_bolt", "tautan.mail.links", "tautan.core.sibling"} <= imports_of(module, "tautan.core.bad", known)
    assert layer("tautan.cli") == "root" and layer("tautan.mail.links") == "mail"
    edges = {"tautan.core.bad": {"tautan.mail.links"}, "tautan.mail.links": {"tautan.core.bad"}}
    assert cycles(edges) == [["tautan.core.bad", "tautan.mail.links"]]
    assert sorted(violations(edges, {"tautan.core.bad": module})) == [
        "tautan.core.bad imports tautan.mail.links", "tautan.core.bad imports the driver library slack_bolt"]
    adapter = tmp_path / "adapter.py"
    adapter.write_text("from sqlalchemy import select\n", encoding="utf-8")
    assert list(violations({}, {"tautan.bot.adapter": adapter}))


@pytest.mark.parametrize("folder", ["core", "mail", "bot", "app"])
def test_every_folder_has_modules(folder: str) -> None:
    assert any(layer(name) != "outside" for name in modules() if name.startswith(PACKAGES[folder]))
