"""The stages of `transforms/` import only the shared basics and the stages before them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "transforms"
STAGES = ("sample", "ingest", "reconcile", "quality", "runfolder", "finance", "serving")
MAY_IMPORT = {
    "sample": set(),
    "ingest": set(),
    "reconcile": {"ingest"},
    "quality": {"ingest", "reconcile"},
    "runfolder": {"ingest", "reconcile", "quality"},
    "finance": {"ingest", "reconcile", "quality", "runfolder"},
    "serving": {"ingest", "reconcile", "quality", "runfolder", "finance"},
}


def stages_imported(path: Path) -> set[str]:
    """The stages a module imports (`from transforms.<stage>...` or `import transforms.<stage>`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "transforms" and len(parts) > 1 and parts[1] in STAGES:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_imports_only_the_stages_before_it(stage):
    wrong = {
        str(path.relative_to(ROOT)): sorted(stages_imported(path) - MAY_IMPORT[stage] - {stage})
        for path in sorted((ROOT / stage).rglob("*.py"))
    }
    assert {name: stages for name, stages in wrong.items() if stages} == {}


def test_the_shared_basics_import_no_stage():
    basics = sorted(ROOT.glob("*.py"))
    assert {p.name for p in basics} >= {"db.py", "files.py", "money.py", "errors.py"}
    assert {p.name: sorted(stages_imported(p)) for p in basics if stages_imported(p)} == {}


def test_every_stage_says_what_it_owns_and_may_import():
    for stage in STAGES:
        doc = ast.get_docstring(ast.parse((ROOT / stage / "__init__.py").read_text()))
        assert doc and "import" in doc, stage


def test_the_check_finds_an_import_of_a_later_stage(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from transforms.finance import warehouse\nimport transforms.serving.x\n")
    assert stages_imported(module) == {"finance", "serving"}


def test_every_statement_s_rows_are_fetched_whole():
    # DuckDB 2.0 streams results: a statement read with `fetchone()` stays open, and the
    # connection's next relation is refused ("connection has an unfinished result"), which
    # stopped `credits what-if` with exit 1 (tests/transforms/reconcile/test_whatif.py).
    left_open = {
        str(path.relative_to(ROOT)): path.read_text(encoding="utf-8").count(".fetchone(")
        for path in sorted(ROOT.rglob("*.py"))
    }
    assert {name: n for name, n in left_open.items() if n} == {}
