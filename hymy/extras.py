"""Which extra provides a package that failed to import: one clear sentence instead of a traceback.

Hymy is installed with the extras of the processes a machine runs (``hymy[kiosk]`` on a Pi,
``hymy[server,postgres]`` on a server). When a part that was asked for cannot import a package,
:func:`missing_package` turns the ``ModuleNotFoundError`` into a :class:`~hymy.errors.MissingPackage`
that names the package and the extra to install. The extras come from the installed package's own
metadata (``pyproject.toml``'s ``[project.optional-dependencies]``), so there is no second list to keep.
"""

from __future__ import annotations

import re
from importlib import metadata

from hymy.errors import MissingPackage

#: Import names whose distribution is named otherwise (the others: the import name with ``_`` -> ``-``).
DISTRIBUTIONS = {"argon2": "argon2-cffi", "multipart": "python-multipart", "python_multipart": "python-multipart"}

#: The extra that the modules of each top-level package of Hymy need (the ``hymy`` package: the core).
PACKAGE_EXTRAS = {"server": "server", "kiosk": "kiosk", "hardware": "kiosk", "sync": "kiosk"}

_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def canonical(name: str) -> str:
    """A distribution name in its canonical form (PEP 503: lower case, runs of ``-_.`` as ``-``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution_of(module: str) -> str:
    """The canonical distribution name that provides the top-level module of ``module`` (``yaml.x`` -> ...)."""
    top = module.split(".")[0]
    return canonical(DISTRIBUTIONS.get(top, top))


def declared(dist: str = "hymy") -> dict[str, set[str]]:
    """Each requirement of the installed ``dist`` -> the extras that declare it (``""``: the core).

    Empty when ``dist`` is not installed (a bare source tree on ``sys.path``).
    """
    try:
        requirements = metadata.requires(dist) or []
    except metadata.PackageNotFoundError:
        return {}
    found: dict[str, set[str]] = {}
    for req in requirements:
        name = _NAME.match(req)
        if name is None:
            continue
        extra = _EXTRA.search(req)
        found.setdefault(canonical(name.group(1)), set()).add(extra.group(1) if extra else "")
    return found


def _importer_extra(exc: BaseException) -> str | None:
    """The extra of the innermost Hymy module in ``exc``'s traceback (the one whose import failed)."""
    extra = None
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        extra = PACKAGE_EXTRAS.get(module.split(".")[0], extra)
        tb = tb.tb_next
    return extra


def missing_package(exc: ModuleNotFoundError, what: str) -> MissingPackage:
    """``exc`` as a :class:`MissingPackage` whose message says that ``what`` (e.g. ``"the dashboard"``)
    cannot start, which package is missing and which extra (or reinstall) brings it."""
    module = exc.name or "?"
    dist = distribution_of(module)
    extras = declared().get(dist)
    if extras is None:  # not something Hymy declares: a module of Hymy itself or of a dependency is gone
        return MissingPackage(f"{what} cannot start: the module {module!r} is missing ({exc}); the installation "
                              f"is incomplete: reinstall hymy with the extras this machine needs", module, None)
    if "" in extras:
        return MissingPackage(f"{what} cannot start: the package {dist!r}, which hymy itself needs, is not "
                              f"installed; reinstall hymy (pip install --force-reinstall hymy)", dist, "")
    hint = _importer_extra(exc)
    choices = [hint] if hint in extras else sorted(extras - {"dev"}) or sorted(extras)
    install = " or ".join(f"pip install 'hymy[{e}]'" for e in choices)
    named = " or the ".join(choices)
    return MissingPackage(f"{what} cannot start: the package {dist!r} is not installed; install the {named} "
                          f"extra: {install}", dist, choices[0])
