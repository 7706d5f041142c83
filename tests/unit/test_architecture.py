"""The layout is the architecture: allowed import directions, and ruff's purity ban by folder.

docs/architecture.md draws the picture these tests hold the tree to.
"""

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"contracts", "ocppj", "runtime", "gateway", "services", "tools", "bench", "tests"}
# Which of our packages each package may import (besides itself).
ALLOWED = {
    "ocppj": set(),
    "contracts": {"ocppj"},
    "runtime": {"contracts", "ocppj"},
    "gateway": {"contracts", "ocppj", "runtime"},
    "services": {"contracts", "ocppj", "runtime"},
    # The operator CLI (tools/cli/credentials.py) hashes station passwords with the gateway's
    # own functions and parameters (gateway/core/auth.py): one definition of what a hash is.
    "tools": {"contracts", "ocppj", "runtime", "gateway"},
    # A benchmark may measure a service in process (bench/api_start.py times SessionsApi.start).
    "bench": {"contracts", "ocppj", "runtime", "tools", "services"},
}


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every absolute import in ``path``, at any depth."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def modules(package: str, root: Path = ROOT) -> list[Path]:
    return sorted((root / package).rglob("*.py"))


def violations(package: str, root: Path = ROOT) -> list[str]:
    found = []
    for path in modules(package, root):
        relative = path.relative_to(root)
        own = ".".join(relative.parts[:2]) if package == "services" else package
        for line, module in imports(path):
            top = module.split(".")[0]
            if top not in OURS or (top == package and package != "services"):
                continue
            if package == "services" and (module == own or module.startswith(own + ".")):
                continue
            if top not in ALLOWED[package]:
                found.append(f"{relative}:{line} imports {module}")
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_go_only_the_allowed_directions(package: str) -> None:
    assert modules(package), f"{package}/ has no modules"
    assert violations(package) == []


def _same_service_core(own: str, module: str) -> bool:
    """Whether ``module`` is in a pure core of the service whose core ``own`` is."""
    parts, mine = module.split("."), own.split(".")
    return (
        mine[0] == "services"
        and parts[:2] == mine[:2]
        and "core" in parts[2:]
        and all(p in ("api", "core") for p in parts[2 : parts.index("core", 2) + 1])
    )


def test_a_pure_core_imports_nothing_of_its_own_shells_or_the_runtime() -> None:
    """services/<name>/core/** and gateway/core/** see contracts, ocppj and their own core;
    the pure cores of one service see each other (billing's API core reads tariffs with the
    billing core)."""
    cores = [p for pattern in ("gateway/core", "services/**/core") for p in ROOT.glob(pattern)]
    assert {str(p.relative_to(ROOT)) for p in cores} >= {"services/sessions/core"}
    found = []
    for core in cores:
        own = ".".join(core.relative_to(ROOT).parts)
        for path in sorted(core.rglob("*.py")):
            for line, module in imports(path):
                top = module.split(".")[0]
                if (
                    top in OURS
                    and top not in ("contracts", "ocppj")
                    and not (module == own or module.startswith(own + "."))
                    and not _same_service_core(own, module)
                ):
                    found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert found == []


def test_the_checker_finds_a_wrong_direction(tmp_path: Path) -> None:
    """The rules above would catch a violation, also one hidden in a function."""
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "codec.py").write_text(
        "from contracts.envelope import Envelope\n\n\ndef f():\n    import runtime.kafka\n"
    )
    (tmp_path / "services" / "billing").mkdir(parents=True)
    (tmp_path / "services" / "billing" / "app.py").write_text(
        "from services.billing.core import x\nfrom services.sessions.core import y\n"
    )
    assert violations("contracts", tmp_path) == ["contracts/codec.py:5 imports runtime.kafka"]
    assert violations("services", tmp_path) == [
        "services/billing/app.py:2 imports services.sessions.core"
    ]


def ruff(filename: str, source: str) -> subprocess.CompletedProcess[str]:
    """ruff as `make lint` runs it, on ``source`` as if it were the file ``filename``."""
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "--stdin-filename", filename]
    return subprocess.run(
        [*command, "-"], input=source, capture_output=True, text=True, cwd=ROOT, check=False
    )


PURE = [
    "contracts/probe.py",
    "contracts/payloads/probe.py",
    "ocppj/probe.py",
    "ocppj/commands/probe.py",
    "services/sessions/core/probe.py",
    "services/billing/core/probe.py",  # a service that does not exist yet: the ban is ready
]
SHELLS = ["runtime/probe.py", "gateway/server.py", "services/sessions/app.py"]
BANNED = [
    '"""Probe."""\n\nimport asyncio\n',
    '"""Probe."""\n\nfrom aiokafka import TopicPartition\n',
]


@pytest.mark.parametrize("filename", PURE)
@pytest.mark.parametrize("source", BANNED)
def test_a_pure_module_that_imports_asyncio_or_aiokafka_fails_lint(
    filename: str, source: str
) -> None:
    result = ruff(filename, source)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "TID251" in result.stdout


@pytest.mark.parametrize("filename", SHELLS)
@pytest.mark.parametrize("source", BANNED)
def test_a_shell_may_do_io(filename: str, source: str) -> None:
    result = ruff(filename, source + "\n__all__ = ['asyncio', 'TopicPartition']\n")
    assert "TID251" not in result.stdout, result.stdout


@pytest.mark.parametrize("package", ["contracts", "ocppj", "runtime", "gateway", "services"])
def test_production_code_does_not_import_faust(package: str) -> None:
    """faust-streaming is a development dependency only (docs/decisions.md)."""
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in modules(package)
        for line, module in imports(path)
        if module.split(".")[0] in ("faust", "mode")
    ]
    assert found == []
