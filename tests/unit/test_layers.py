"""The import contracts in pyproject.toml (``[tool.importlinter]``): layers point one way, the local engine
and the development broker are independent, and nothing imports in a cycle. ``make lint`` runs them too;
here they also run with the tests, and a back-edge added on purpose shows they would catch one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def copy_code(to: Path) -> None:
    """The packages' code (not the NER model's files) and the contracts, to change a copy."""
    for name in ("pipelines", "transforms"):
        shutil.copytree(ROOT / name, to / name, ignore=shutil.ignore_patterns("__pycache__", "model"))
    shutil.copy(ROOT / "pyproject.toml", to)


def test_the_import_contracts_are_kept():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_a_transform_importing_the_pipelines_breaks_the_layers(tmp_path: Path):
    copy_code(tmp_path)
    transform = tmp_path / "transforms" / "normalize.py"
    transform.write_text(transform.read_text() + "\nfrom pipelines.options import Limits  # noqa: E402\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert "transforms is not allowed to import pipelines.options" in done.stdout
    assert "transforms.normalize -> pipelines.options" in done.stdout


def test_a_cycle_breaks_the_contracts(tmp_path: Path):
    copy_code(tmp_path)
    module = tmp_path / "transforms" / "entities" / "warm_words.py"
    module.write_text(  # a function-local import still counts
        module.read_text()
        + "\n\ndef _late() -> None:\n    from transforms.entities import recognize  # noqa: F401\n"
    )
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert "No cycles are allowed in transforms.entities" in done.stdout
    assert ".warm_words -> .recognize" in done.stdout
