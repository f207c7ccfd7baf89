"""The student edition (`make assignments`: nbgrader's generate step, tools/assignments.py) and
the handout (`make handout`, tools/handout.py): the notebooks without their worked solutions and
hidden tests, nothing else changed; no line of any solution in anything a student receives; no
stale notebook; and the edition still runs: nbval executes every copy, and the untouched
exercise placeholders make their checks print ✗ and why, never raise."""
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from tools import assignments, handout

NOTEBOOKS = sorted(assignments.NOTEBOOKS.glob("*.ipynb"))


@pytest.fixture(scope="module")
def edition(student_edition):
    return student_edition[1]


def test_every_notebook_has_a_student_copy(edition, student_edition):
    assert NOTEBOOKS, "no notebooks"
    assert sorted(p.name for p in edition.glob("*.ipynb")) == [p.name for p in NOTEBOOKS]
    course = student_edition[0]
    assert sorted(p.name for p in (course / "release").iterdir()) == [p.stem for p in NOTEBOOKS]
    assert (course / "gradebook.db").exists() and (course / "nbgrader_config.py").exists()


def test_the_nbgrader_metadata_is_up_to_date():
    """`python tools/assignments.py mark` derives each exercise cell's nbgrader metadata from
    its text; run it after editing an exercise."""
    stale = [p.name for p in NOTEBOOKS if assignments.mark(nbformat.read(p, as_version=4))]
    assert not stale, f"run `python tools/assignments.py mark`: out of date in {stale}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_the_solutions_and_hidden_tests_are_removed(path, edition):
    original = nbformat.read(path, as_version=4)
    copy = nbformat.read(edition / path.name, as_version=4)
    assert len(copy.cells) == len(original.cells), f"{path.name}: cells added or lost"
    answers = checks = 0
    for mine, theirs in zip(original.cells, copy.cells):
        role = mine.metadata.get("nbgrader", {})
        expected = mine.source
        if role.get("solution"):
            answers += 1
            expected = assignments.without_regions(mine.source, assignments.SOLUTION_BEGIN,
                                                   assignments.SOLUTION_END).rstrip()
            assert "..." in theirs.source, f"{path.name}: an answer cell without its placeholder"
            compile(theirs.source, path.name, "exec")          # valid Python that runs
            assert not theirs.metadata.get("jupyter", {}).get("source_hidden"), "answer cells open"
        if role.get("grade"):
            checks += 1
            expected = assignments.without_regions(mine.source, assignments.HIDDEN_BEGIN,
                                                   assignments.HIDDEN_END)
        assert theirs.source == expected, f"{path.name}: the student copy changed more than the solutions"
        assert theirs.cell_type == mine.cell_type
        if not role:
            assert theirs.metadata == mine.metadata
    assert answers >= 3 and checks >= answers, f"{path.name}: {answers} answer cells, {checks} checks"
    assert copy.metadata.kernelspec == original.metadata.kernelspec


def code_lines(source: str) -> set[str]:
    """The lines of `source`, whitespace-normalised, without the trivial ones (a bracket, a bare
    keyword, a comment, a placeholder): those may appear anywhere without giving anything away."""
    lines = set()
    for line in source.split("\n"):
        line = " ".join(line.split("#")[0].split())
        if len(re.sub(r"\W", "", line)) > 6 and line not in ("return x", "..."):
            lines.add(line)
    return lines


def solution_lines(path: Path) -> set[str]:
    """The lines of the notebook's solution regions, less those its lessons show anyway (notebook
    02's section 2 writes masking noise, ending `return x * keep`, before exercise 1 asks for it
    with a seed): a line taught in the open is not a solution given away."""
    cells = nbformat.read(path, as_version=4).cells
    solutions = {line for cell in cells
                 for line in code_lines("\n".join(assignments.solution_lines(cell.source)))}
    taught = {line for cell in cells for line in code_lines(assignments.student_source(cell.source))}
    return solutions - taught


def leaks(notebook, solutions: set[str]) -> list[str]:
    """The solution lines found in any cell (source or output) of a student notebook."""
    found = []
    for cell in notebook.cells:
        texts = [cell.source] + [json.dumps(o) for o in cell.get("outputs", [])]
        found += sorted(solutions & set().union(*(code_lines(t) for t in texts)))
    return found


def test_the_leak_finder_finds_a_solution_line():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "def f(mu, logvar, eps):\n    return mu   +  torch.exp(0.5 * logvar) * eps  # z\n")])
    assert leaks(nb, code_lines("return mu + torch.exp(0.5 * logvar) * eps")) == \
        ["return mu + torch.exp(0.5 * logvar) * eps"]
    assert not code_lines("    return x\n)\n# a comment\n...")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_solution_line_reaches_the_student_edition(path, edition):
    solutions = solution_lines(path)
    assert len(solutions) >= 3, f"{path.name}: its solutions were not found"
    copy = nbformat.read(edition / path.name, as_version=4)
    assert not leaks(copy, solutions), f"{path.name}: solution lines in the student edition"
    text = json.dumps(copy)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS"):
        assert marker not in text, f"{path.name}: {marker} in the student edition"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_text_about_solutions_reads_true_in_both_editions(path):
    """The student copy keeps every markdown cell, so a sentence that promises a worked solution
    must say it is in the instructor's edition: "the solution is in the cell below" would be
    false in the copy, where it is gone."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        text = " ".join(cell.source.split())
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            if re.search(r"\bsolutions?\b", sentence, re.I) and re.search(r"worked|collapsed|below", sentence, re.I):
                assert "instructor's edition" in sentence, \
                    f"{path.name}: true only in the instructor's edition: {sentence!r}"


def test_writing_into_the_notebooks_is_refused(tmp_path):
    (tmp_path / "a.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))
    with pytest.raises(ValueError, match="instructor's notebooks would be lost"):
        assignments.generate(tmp_path, course=tmp_path / "course", student=tmp_path / "x")
    with pytest.raises(ValueError, match="no notebooks"):
        assignments.generate(tmp_path / "empty", course=tmp_path / "c", student=tmp_path / "s")


def test_no_stale_notebook_stays_and_the_count_is_right(tmp_path, capsys):
    """Issue 24, item 9: a notebook renamed since the last run used to stay in the edition,
    and be counted. Each run writes the edition anew."""
    notebooks, course, student = tmp_path / "notebooks", tmp_path / "course", tmp_path / "student"
    notebooks.mkdir()
    source = next(p for p in NOTEBOOKS if p.name.startswith("06"))
    tiny = nbformat.read(source, as_version=4)
    start = next(i for i, c in enumerate(tiny.cells) if "## Exercises" in c.source)
    tiny.cells = tiny.cells[start:]
    nbformat.write(tiny, notebooks / "09_old_name.ipynb")
    assert len(assignments.generate(notebooks, course, student)) == 1
    (notebooks / "09_old_name.ipynb").rename(notebooks / "09_new_name.ipynb")
    (student / "stray.ipynb").write_text("{}")
    written = assignments.generate(notebooks, course, student)
    assert [p.name for p in written] == ["09_new_name.ipynb"]
    assert [p.name for p in student.iterdir()] == ["09_new_name.ipynb"]
    assert [p.name for p in (course / "release").iterdir()] == ["09_new_name"]
    assert [p.name for p in (course / "source").iterdir()] == ["09_new_name"]
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("09_new_name.ipynb: 3 answer cells")


def test_the_handout_holds_what_students_need_and_nothing_else(edition, tmp_path):
    out = tmp_path / "handout.zip"
    handout.write(out, student=edition)
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        notebooks = {n: nbformat.reads(zf.read(n).decode(), as_version=4)
                     for n in names if n.endswith(".ipynb")}
    assert all(n.startswith("autoencoders-hands-on/") for n in names)
    names = sorted(n.removeprefix("autoencoders-hands-on/") for n in names)
    helpers = sorted(p.relative_to(handout.REPO).as_posix() for p in (handout.REPO / "helpers").rglob("*.py")
                     if "__pycache__" not in p.parts)
    assert names == sorted([f"notebooks/{p.name}" for p in NOTEBOOKS] + helpers + handout.FILES)
    for banned in ("TEACHING.md", "tests/", ".ipynb_checkpoints", "__pycache__", ".venv", "data/cache",
                   "build/", "tools/assignments.py", ".pt", "website/"):
        assert not [n for n in names if banned in n], f"{banned} must not be in the handout"
    for path in NOTEBOOKS:
        name = f"autoencoders-hands-on/notebooks/{path.name}"
        assert not leaks(notebooks[name], solution_lines(path)), f"{path.name}: a solution in the handout"


def test_the_student_website_shows_no_solution(tmp_path):
    """`make site EDITION=student`: website/build.py's prepare() drops the solution regions,
    the hidden tests and the checks' outputs (checked here without executing anything)."""
    from website import build
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:           # as if executed: a check's output says ✓
            if cell.cell_type == "code":
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="✓ right\n")]
        page = build.prepare(nb, path.name[:2], build.Folders(tmp_path, "student"))
        assert not leaks(page, solution_lines(path)), f"{path.name}: a solution on the student site"
        assert "HIDDEN TESTS" not in json.dumps(page) and "BEGIN SOLUTION" not in json.dumps(page)
        graded = [c for c in page.cells if c.metadata.get("nbgrader", {}).get("grade")
                  or c.metadata.get("nbgrader", {}).get("solution")]
        assert graded and all(not c.outputs for c in graded)


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
        checks = [c.source for c in copy.cells if c.metadata.get("nbgrader", {}).get("grade")]
        ran = {c["source"]: c["printed"] for c in cells if c["notebook"] == path.name}
        assert len(checks) >= 3 and all(source in ran for source in checks), f"{path.name}: checks not run"
        printed = [ran[source] for source in checks]
        assert all(p.startswith("✗") and "✓" not in p for p in printed), \
            f"{path.name}: an untouched placeholder should print ✗: " + "; ".join(p.strip() for p in printed)
    print(f"\nstudent edition: nbval passed on {len(NOTEBOOKS)} notebooks; "
          f"{run.stdout.strip().splitlines()[-1]}")
