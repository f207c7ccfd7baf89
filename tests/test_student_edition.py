"""The student edition (`make student`, tools/student.py): the notebooks without their worked
solutions, and nothing else changed. It must still run: nbval executes every copy, and the
untouched exercise stubs make their checks print ✗ and why, never raise."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import student

NOTEBOOKS = sorted(student.NOTEBOOKS.glob("*.ipynb"))


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    folder = tmp_path_factory.mktemp("student") / "notebooks"
    student.write_edition(folder)
    return folder


def test_every_notebook_has_a_student_copy(edition):
    assert NOTEBOOKS, "no notebooks"
    assert sorted(p.name for p in edition.glob("*.ipynb")) == [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_the_solutions_are_removed(path, edition):
    original = nbformat.read(path, as_version=4)
    copy = nbformat.read(edition / path.name, as_version=4)
    kept = [cell for cell in original.cells if "solution" not in cell.metadata.get("tags", [])]
    assert len(kept) < len(original.cells), f"{path.name} has no cell tagged solution"
    assert not [c for c in copy.cells if "solution" in c.metadata.get("tags", [])]
    assert "# Solution" not in "".join(c.source for c in copy.cells if c.cell_type == "code")
    assert copy.cells == kept, f"{path.name}: the student copy changed more than the solutions"
    assert copy.metadata == original.metadata
    assert (copy.nbformat, copy.nbformat_minor) == (original.nbformat, original.nbformat_minor)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_text_about_solutions_reads_true_in_both_editions(path):
    """The student copy keeps every markdown cell, so a sentence that promises a worked solution
    must say it is in the instructor's edition: "the solution is in the cell below" would be
    false in the copy, where that cell is gone."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        text = " ".join(cell.source.split())
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            if re.search(r"\bsolutions?\b", sentence, re.I) and re.search(r"worked|collapsed|below", sentence, re.I):
                assert "instructor's edition" in sentence, \
                    f"{path.name}: true only in the instructor's edition: {sentence!r}"


def test_writing_over_the_notebooks_is_refused(tmp_path):
    (tmp_path / "a.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))
    with pytest.raises(ValueError, match="solutions would be lost"):
        student.write_edition(tmp_path, notebooks=tmp_path)
    with pytest.raises(ValueError, match="no notebooks"):
        student.write_edition(tmp_path / "out", notebooks=tmp_path / "empty")


@pytest.mark.after_notebooks
def test_student_edition_passes_nbval_and_checks_say_not_yet(edition, tmp_path):
    """nbval over every student copy (after the notebooks' own run has filled the model cache,
    so nothing trains twice); each exercise's check prints ✗, none raises, none prints ✓."""
    record = tmp_path / "outputs.jsonl"
    tests_dir = Path(__file__).resolve().parent
    env = dict(os.environ, NBVAL_OUTPUTS=str(record),
               PYTHONPATH=os.pathsep.join(filter(None, [str(tests_dir), os.environ.get("PYTHONPATH")])))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
         "--nbval-cell-timeout=600", "-p", "no:cacheprovider", "-p", "nbval_outputs", "-q",
         f"--rootdir={edition}", *sorted(str(p) for p in edition.glob("*.ipynb"))],
        cwd=edition, env=env, capture_output=True, text=True)
    assert run.returncode == 0, f"nbval failed on the student edition:\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}"
    cells = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
    for path in NOTEBOOKS:
        copy = nbformat.read(edition / path.name, as_version=4)
        exercises = [c for c in copy.cells if c.cell_type == "markdown" and "**Exercise" in c.source]
        first = next(c.source for c in copy.cells[copy.cells.index(exercises[0]):] if c.cell_type == "code")
        ran = [c for c in cells if c["notebook"] == path.name]
        start = next(i for i, c in enumerate(ran) if c["source"] == first)
        checks = [c for c in ran[start:] if "✓" in c["printed"] or "✗" in c["printed"]]
        assert len(checks) >= len(exercises) >= 3, \
            f"{path.name}: {len(exercises)} exercises, {len(checks)} check cells printed ✓ or ✗"
        assert all("✗" in c["printed"] and "✓" not in c["printed"] for c in checks), \
            f"{path.name}: an untouched stub should print ✗: " + \
            "; ".join(c["printed"].strip() for c in checks)
    print(f"\nstudent edition: nbval passed on {len(NOTEBOOKS)} notebooks; "
          f"{run.stdout.strip().splitlines()[-1]}")
