"""Each extra carries what its modules import, and a missing package is named with the extra that brings it.

The authoritative check installs each extra alone in a fresh venv and starts its process
(image/extras_check.py, run by CI); these tests read the source, so they run everywhere in a second.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import pytest

from hymy.errors import MissingPackage
from hymy.extras import PACKAGE_EXTRAS, canonical, distribution_of, missing_package
from tests.conftest import ROOT

PACKAGES = ["hymy", "kiosk", "hardware", "sync", "server", "assets"]
#: Development tools inside the packages, run with the dev extra (`make screenshots`).
DEV_TOOLS = {"server.screenshots": {"playwright"}}
#: What `hymy status` and the `hymy` command itself load: they must run on the core alone.
CORE_ROOTS = ["hymy.cli", "kiosk.cli", "kiosk.config", "kiosk.status"]


def _pyproject() -> dict[str, set[str]]:
    """Extra -> canonical distribution names, "" for the core, from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(reqs: list[str]) -> set[str]:
        return {canonical(r.split(";")[0].split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip())
                for r in reqs}

    return {"": names(project["dependencies"]),
            **{extra: names(reqs) for extra, reqs in project["optional-dependencies"].items()}}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(path: Path, *, module_level_only: bool = False) -> set[str]:
    """The absolute module names ``path`` imports (relative imports resolved are not needed here)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def _third_party(name: str) -> bool:
    top = name.split(".")[0]
    return top not in PACKAGES and top not in sys.stdlib_module_names and top != "__future__"


def test_every_import_is_declared_by_the_core_or_the_extra_of_its_package() -> None:
    declared = _pyproject()
    missing = []
    for module, path in _modules().items():
        extra = PACKAGE_EXTRAS.get(module.split(".")[0], "")
        allowed = declared[""] | declared.get(extra, set()) | DEV_TOOLS.get(module, set())
        for dist in sorted({distribution_of(name) for name in _imports(path) if _third_party(name)} - allowed):
            missing.append(f"{module} imports {dist}: declared neither by the core nor by the {extra} extra")
    assert not missing, "\n".join(missing)


def test_hymy_status_and_the_command_load_only_the_core() -> None:
    declared = _pyproject()[""]
    modules = _modules()
    seen, todo, outside = set(), list(CORE_ROOTS), []
    while todo:
        module = todo.pop()
        if module in seen or module not in modules:
            continue
        seen.add(module)
        for name in _imports(modules[module], module_level_only=True):
            if _third_party(name):
                if distribution_of(name) not in declared:
                    outside.append(f"{module} imports {distribution_of(name)} at load time: not in the core")
            else:
                todo += [name, name.rsplit(".", 1)[0]]
    assert "kiosk.store" in seen  # hymy status opens the device's store
    assert not outside, "\n".join(sorted(set(outside)))


def test_a_missing_package_is_named_with_its_extra() -> None:
    gone = missing_package(ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn"), "`hymy server`")
    assert isinstance(gone, MissingPackage) and isinstance(gone, ImportError)
    assert str(gone) == ("`hymy server` cannot start: the package 'uvicorn' is not installed; install the server "
                         "extra: pip install 'hymy[server]'")
    assert (gone.package, gone.extra) == ("uvicorn", "server")
    # an import name other than the distribution's, declared by two extras
    argon = missing_package(ModuleNotFoundError(name="argon2"), "the PIN lock")
    assert argon.package == "argon2-cffi"
    assert "install the kiosk or the server extra: pip install 'hymy[kiosk]' or pip install 'hymy[server]'" in str(argon)


@pytest.mark.parametrize(("module", "says"), [
    ("tenacity", "the package 'tenacity', which hymy itself needs, is not installed; reinstall hymy"),
    ("server.dashboard.routes", "the module 'server.dashboard.routes' is missing"),
])
def test_a_missing_core_package_or_module_of_hymy_says_reinstall(module: str, says: str) -> None:
    assert says in str(missing_package(ModuleNotFoundError(name=module), "x"))


def test_the_installed_metadata_declares_what_pyproject_declares() -> None:
    """missing_package reads the installed metadata: a stale install would name the wrong extra."""
    from hymy.extras import declared

    installed = declared()
    for extra, names in _pyproject().items():
        for name in names:
            assert extra in installed.get(name, set()), f"{name} in {extra or 'core'}: reinstall (make)"
