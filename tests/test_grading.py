"""Grading with nbgrader (`make grade`, tools/assignments.py) against the submissions a teacher
really gets: all right, all placeholders, a cell that raises, a cell that never ends, a check
cell edited to always pass, a file that is not a notebook, a notebook of another assignment, a
stray PDF, the three layouts. Nothing stops the run; each file gets its score and a reason.

To stay quick the course here is small: notebooks 06 and 03 cut down to their exercises (the
real exercise cells, nbgrader metadata and checks; a light setup cell instead of the lesson),
generated and graded once for the whole module. The benchmark grades the real notebook 06."""
import csv
import shutil

import nbformat
import pytest

from tools import assignments

TIMEOUT = 20        # seconds per cell: far above what the small notebooks' cells take
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")   # nbgrader's sessions


def cut_down(source, folder):
    """The notebook's title, a setup cell, and its exercise section, as they are."""
    nb = nbformat.read(source, as_version=4)
    start = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and "## Exercises" in c.source)
    setup = nbformat.v4.new_code_cell("import math\nimport time\n\nimport numpy as np\nimport torch\n\n"
                                      "from helpers import checks\n\nstarted = time.perf_counter()")
    nb.cells = [nb.cells[0], setup] + nb.cells[start:]
    nbformat.write(nb, folder / source.name)
    return source.stem


def solved(source: str) -> str:
    """An answer cell with its worked solution in place, as a student who got it right has it."""
    return "\n".join(line for line in source.split("\n")
                     if assignments.SOLUTION_BEGIN not in line and assignments.SOLUTION_END not in line)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    notebooks, course, submissions = root / "notebooks", root / "course", root / "submitted-by-students"
    notebooks.mkdir()
    a06 = cut_down(next(assignments.NOTEBOOKS.glob("06_*.ipynb")), notebooks)
    a03 = cut_down(next(assignments.NOTEBOOKS.glob("03_*.ipynb")), notebooks)
    assignments.generate(notebooks, course, root / "student")

    def release(name):
        return nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)

    def answered(name, change=None):
        nb, source = release(name), nbformat.read(notebooks / f"{name}.ipynb", as_version=4)
        answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if "nbgrader" in c.metadata}
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = solved(answers[grade_id])
            if change and grade_id in change:
                cell.source = change[grade_id](cell.source)
        return nb

    submissions.mkdir()
    flat = {    # <student>_<notebook>.ipynb
        "alice": answered(a06),
        "bob": release(a06),
        "carol": answered(a06, {"ex06-2-answer": lambda s: "raise ValueError('half done')\n" + s}),
        "dave": answered(a06, {"ex06-1-answer": lambda s: "while True:\n    pass\n" + s}),
        "erin": answered(a06, {
            "ex06-2-answer": lambda s: "def reparameterize(mu, logvar, eps):\n    return mu",
            "ex06-2-check": lambda s: "print('✓ reparameterize: right')\nresult = True"}),
        "grace": answered(a03),                 # 03's notebook, saved under 06's name
    }
    for student, nb in flat.items():
        nbformat.write(nb, submissions / f"{student}_{a06}.ipynb")
    (submissions / f"frank_{a06}.ipynb").write_text("{ this is not a notebook", encoding="utf-8")
    (submissions / "heidi").mkdir()                                      # one folder per student
    nbformat.write(answered(a06), submissions / "heidi" / f"{a06}.ipynb")
    (submissions / "heidi" / "notes.pdf").write_bytes(b"%PDF-1.4\n")
    (submissions / "ivan" / a03).mkdir(parents=True)                     # nbgrader's layout
    nbformat.write(answered(a03), submissions / "ivan" / a03 / f"{a03}.ipynb")
    (submissions / "ivan" / a06).mkdir(parents=True)
    nbformat.write(release(a06), submissions / "ivan" / a06 / f"{a06}.ipynb")
    results = assignments.grade(submissions, course, assignment="06", timeout=TIMEOUT)
    return course, {(g.student, g.file.split("/")[-1]): g for g in results}, a06


def one(graded, student, suffix=".ipynb"):
    found = [g for (s, f), g in graded[1].items() if s == student and f.endswith(suffix)]
    assert len(found) == 1, f"{student}: {len(found)} results"
    return found[0]


def test_all_right_gets_every_point_and_feedback(graded):
    course, _, a06 = graded
    for student in ("alice", "heidi"):
        g = one(graded, student)
        assert (g.assignment, g.score, g.max_score) == (a06, 3, 3), g.reason
        assert g.exercises == {"06.1": (1, 1), "06.2": (1, 1), "06.3": (1, 1)}
        assert g.reason == "every check passed"
        page = (course / "feedback" / student / a06 / f"{a06}.html").read_text(encoding="utf-8")
        assert "reparameterize" in page and "Score:" in page


def test_placeholders_score_nothing_and_say_why(graded):
    for student in ("bob", "ivan"):
        g = one(graded, student, "06_vae_neural_network_view.ipynb")
        assert (g.score, g.max_score) == (0, 3)
        assert g.reason.count("not answered yet") + g.reason.count("returned nothing yet") == 3, g.reason


def test_a_cell_that_raises_costs_its_exercise_only(graded):
    g = one(graded, "carol")
    assert g.score == 2 and g.exercises["06.2"] == (0, 1)
    assert "answer cell ex06-2-answer: ValueError: half done" in g.reason


def test_a_cell_that_never_ends_is_stopped_by_the_timeout(graded):
    g = one(graded, "dave")
    assert g.score == 2 and g.exercises["06.1"] == (0, 1)
    assert f"answer cell ex06-1-answer: ran longer than {TIMEOUT} s" in g.reason


def test_an_edited_check_is_restored_and_scores_nothing(graded):
    """nbgrader puts the test cells back from the source (hidden test included) before it runs."""
    g = one(graded, "erin")
    assert g.exercises["06.2"] == (0, 1) and g.score == 2
    assert "the check cell ex06-2-check was edited: graded with the original" in g.reason
    assert "check ex06-2-check: AssertionError" in g.reason


def test_what_is_no_submission_is_named_and_not_graded(graded):
    course, _, a06 = graded
    cases = {("frank", ".ipynb"): "not a readable notebook (NotJSONError",
             ("grace", ".ipynb"): f"its name says {a06}, but it is a notebook of 03_sparse_autoencoder",
             ("heidi", ".pdf"): "not a notebook file (.pdf)",
             ("ivan", "03_sparse_autoencoder.ipynb"): f"a notebook of 03_sparse_autoencoder, not of {a06}"}
    for (student, suffix), says in cases.items():
        g = one(graded, student, suffix)
        assert g.score == 0 and not g.exercises and says in g.reason, g.reason
        assert "not graded" in g.reason and g.feedback.endswith(".not-graded.html")
        assert says.split(" (")[0] in open(g.feedback, encoding="utf-8").read()


def test_the_gradebook_csv_lists_every_file(graded):
    course, results, a06 = graded
    with open(course / "grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(results) == 11
    alice = next(r for r in rows if r["student"] == "alice")
    assert (alice["assignment"], alice["score"], alice["max_score"]) == (a06, "3", "3")
    assert alice["exercises"] == "06.1=1/1 06.2=1/1 06.3=1/1"
    assert all(r["reason"] for r in rows)
    assert (course / "gradebook.db").exists() and not (course.parent / "gradebook.db").exists()


def test_grading_needs_a_course_and_a_folder(tmp_path, graded):
    with pytest.raises(ValueError, match="run `make assignments` first"):
        assignments.grade(tmp_path, tmp_path / "no-course")
    with pytest.raises(ValueError, match="not a folder"):
        assignments.grade(tmp_path / "missing", graded[0])
    with pytest.raises(ValueError, match="no assignment '09'"):
        assignments.grade(tmp_path, graded[0], assignment="09")
    shutil.rmtree(tmp_path)
