"""Every process the tests and benchmarks start goes through the helpers that end it with the run
(tests/procs.py, hymy.children); a process started another way would outlive a killed test run."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

SPAWNERS = {"Popen", "run", "call", "check_call", "check_output", "getoutput", "getstatusoutput"}
OS_SPAWNERS = {"system", "popen", "posix_spawn", "posix_spawnp", "execv", "spawnv", "spawnl", "spawnlp", "spawnvp"}


def _offences(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    where = path.relative_to(root)
    found = []
    forks = False
    pdeathsig = False
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("subprocess", "multiprocessing", "asyncio"):
            names = {a.name for a in node.names} & (SPAWNERS | {"create_subprocess_exec", "create_subprocess_shell",
                                                              "Process", "Pool"})
            found += [f"{where}:{node.lineno}: from {node.module} import {n}" for n in names]
        if isinstance(node, ast.Import) and any(a.name == "multiprocessing" for a in node.names):
            forks = True  # its processes must ask for the death signal, as a forked child does
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "die_with_parent":
                pdeathsig = True
            continue
        module, attr = node.func.value.id, node.func.attr
        if ((module == "subprocess" and attr in SPAWNERS) or (module == "os" and attr in OS_SPAWNERS)
                or (module == "asyncio" and attr.startswith("create_subprocess"))):
            found.append(f"{where}:{node.lineno}: {module}.{attr}(...)")
        forks |= module == "os" and attr == "fork"
        pdeathsig |= attr == "die_with_parent"
    if forks and not pdeathsig:
        found.append(f"{where}: os.fork() or multiprocessing without die_with_parent() in the child")
    return found


def test_tests_and_benchmarks_start_processes_only_through_the_helpers() -> None:
    files = [p for p in [*ROOT.glob("tests/**/*.py"), *ROOT.glob("bench/*.py")] if p != ROOT / "tests" / "procs.py"]
    assert len(files) > 50
    offences = [o for p in files for o in _offences(p)]
    assert not offences, ("start child processes with tests.procs.Popen / tests.procs.run (tests) or "
                          "hymy.children.popen / run (bench), and call hymy.children.die_with_parent after "
                          "os.fork(), so that they end with the run:\n" + "\n".join(offences))


def test_the_check_finds_a_plain_popen(tmp_path: Path) -> None:
    bad = tmp_path / "probe.py"
    bad.write_text("import os, subprocess\nsubprocess.Popen(['true'])\nif os.fork() == 0:\n    pass\n")
    assert _offences(bad, tmp_path) == ["probe.py:2: subprocess.Popen(...)",
                                        "probe.py: os.fork() or multiprocessing without die_with_parent() in the child"]
    pool = tmp_path / "pool.py"
    pool.write_text("import multiprocessing\nmultiprocessing.get_context('spawn').Process(target=print).start()\n")
    assert _offences(pool, tmp_path) == ["pool.py: os.fork() or multiprocessing without die_with_parent() in the child"]
