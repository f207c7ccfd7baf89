"""The student edition and homework grading, with nbgrader: each notebook is an nbgrader
assignment of the same name (`06_vae_neural_network_view`), in a course folder under build/.

    python tools/assignments.py generate           # make assignments: the student edition
    python tools/assignments.py grade FOLDER       # make grade SUBMISSIONS=FOLDER
          [--assignment 06] [--timeout 60]
    python tools/assignments.py mark [--check]     # nbgrader metadata of the exercise cells

The exercise cells of notebooks/ are nbgrader cells, derived from their text by `mark` (run it
after editing an exercise; a test fails when the metadata is out of date):
 - an answer cell holds a solution region between `### BEGIN SOLUTION` and `### END SOLUTION`,
   after the student's placeholder (`...`, which the checks read as "not answered yet"). It is an
   nbgrader solution cell, tagged `solution` and collapsed in the instructor's edition;
 - a check cell, `result = checks.exercise("06.2", reparameterize)`, is an autograded test cell
   worth one point. Its hidden test (`### BEGIN HIDDEN TESTS`: `assert result, ...`) is removed
   from the student edition, which therefore never stops at a wrong answer, and put back by
   nbgrader when it grades: a wrong answer then fails the cell;
 - the text of an exercise is a read-only cell.
nbgrader's code stub is empty: the placeholder above each solution region stays, so every
answer cell of the student edition is valid Python that runs (nbgrader's default stub,
`raise NotImplementedError()`, would stop Run All at the first unanswered exercise).

The course folder (default build/course/) is nbgrader's: source/ (copies of the notebooks),
release/ (the student edition, one folder per assignment), submitted/, autograded/, feedback/,
the gradebook database gradebook.db and nbgrader_config.py (so `nbgrader` commands work there
too). build/student/notebooks/ holds the student edition again, all notebooks in one folder:
what students get, and what `make lab NOTEBOOK_DIR=build/student/notebooks` opens.

`grade` accepts, in the folder it is given, <student>_<notebook>.ipynb files, one folder per
student (<student>/<notebook>.ipynb), or nbgrader's layout (<student>/<notebook>/<notebook>.ipynb).
Which assignment a notebook belongs to is read from its nbgrader cells. nbgrader restores the
check cells, runs each notebook in a fresh kernel (a cell is interrupted after `--timeout`
seconds) and scores it; the scores, the reason for each lost point, and why a file was not graded
go to course/grades.csv, feedback pages to course/feedback/<student>/. The students' code runs with
the rights of whoever grades.
"""
from __future__ import annotations

import argparse
import csv
import html
import json
import os
import re
import shutil
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
COURSE = REPO / "build" / "course"
STUDENT = REPO / "build" / "student" / "notebooks"
TIMEOUT = 60          # seconds a cell may run when grading, then it is interrupted

SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
CHECK = re.compile(r'checks\.exercise\("(\d\d)\.(\w+)"')
STATEMENT = re.compile(r"\*\*Exercise (\d+)\.\*\*")


# --- the nbgrader cells of the instructor's notebooks ---------------------------------------

def nbgrader_roles(nb) -> list[dict | None]:
    """Each cell's nbgrader metadata, derived from its text: the exercises' text (read-only),
    answer (solution) and check (autograded test) cells; None for every other cell. Cell ids
    name the notebook and the exercise ("ex06-2-answer"), never a cell's position."""
    numbers = {n for c in nb.cells if c.cell_type == "code" for n, _ in CHECK.findall(c.source)}
    if len(numbers) > 1:
        raise ValueError(f"check cells of several notebooks in one: {sorted(numbers)}")
    notebook = numbers.pop() if numbers else "00"
    roles, exercise = [], None
    for index, cell in enumerate(nb.cells):
        role = None
        if cell.cell_type == "markdown" and (found := STATEMENT.findall(cell.source)):
            exercise = found[-1]
            role = {"grade": False, "locked": True, "solution": False,
                    "grade_id": f"ex{notebook}-{'-'.join(found)}-text"}
        elif cell.cell_type == "code" and (found := CHECK.findall(cell.source)):
            role = {"grade": True, "locked": True, "solution": False, "points": 1,
                    "grade_id": f"ex{notebook}-{found[0][1]}-check"}
        elif cell.cell_type == "code" and SOLUTION_BEGIN in cell.source:
            if exercise is None:
                raise ValueError(f"cell {index + 1}: a solution region before any **Exercise N.** text")
            role = {"grade": False, "locked": False, "solution": True,
                    "grade_id": f"ex{notebook}-{exercise}-answer"}
        if role:
            role.update(schema_version=3, task=False)
        roles.append(role)
    ids = [r["grade_id"] for r in roles if r]
    if len(ids) != len(set(ids)):
        raise ValueError(f"two cells of one exercise play the same part: {sorted(i for i in ids if ids.count(i) > 1)}")
    return roles


def mark(nb) -> bool:
    """Write the nbgrader metadata of every cell (and the `solution` tag and collapsed source
    of answer cells); True if anything changed."""
    changed = False
    for cell, role in zip(nb.cells, nbgrader_roles(nb)):
        before = json.dumps(cell.metadata, sort_keys=True)
        if role is None:
            cell.metadata.pop("nbgrader", None)
        else:
            cell.metadata["nbgrader"] = role
        tags = [t for t in cell.metadata.get("tags", []) if t != "solution"]
        if role and role["solution"]:
            tags.append("solution")
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
        changed |= json.dumps(cell.metadata, sort_keys=True) != before
    return changed


def without_regions(source: str, begin: str, end: str) -> str:
    """`source` with the lines from each `begin` line to its `end` line left out."""
    kept, inside = [], False
    for line in source.split("\n"):
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept)


def student_source(source: str) -> str:
    """A cell's source as the student edition has it: without its solution regions and hidden
    tests (what nbgrader's generate step removes)."""
    source = without_regions(source, SOLUTION_BEGIN, SOLUTION_END)
    return without_regions(source, HIDDEN_BEGIN, HIDDEN_END).rstrip()


def solution_lines(source: str) -> list[str]:
    """The lines inside the solution regions of a cell."""
    lines, inside = [], False
    for line in source.split("\n"):
        if SOLUTION_BEGIN in line:
            inside = True
        elif SOLUTION_END in line:
            inside = False
        elif inside:
            lines.append(line)
    return lines


# --- nbgrader's configuration ---------------------------------------------------------------

def open_answer_cells():
    """An nbconvert preprocessor for nbgrader's generate step, right after it removes the
    solutions: students get the answer cells open (not collapsed), without the `solution` tag,
    and without the blank line a solution region leaves behind."""
    from nbgrader.preprocessors import NbGraderPreprocessor

    class OpenAnswerCells(NbGraderPreprocessor):
        def preprocess_cell(self, cell, resources, index):
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = cell.source.rstrip()
                cell.metadata.get("jupyter", {}).pop("source_hidden", None)
                tags = [t for t in cell.metadata.pop("tags", []) if t != "solution"]
                for key, value in (("jupyter", cell.metadata.get("jupyter")), ("tags", tags)):
                    if value:
                        cell.metadata[key] = value
                    else:
                        cell.metadata.pop(key, None)
            return cell, resources
    return OpenAnswerCells


def nbgrader_config(course: Path, timeout: int = TIMEOUT):
    """The course's nbgrader settings (a traitlets Config). The course folder's
    nbgrader_config.py loads them from here, so `nbgrader` commands run there agree."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.preprocessors import ClearSolutions
    from traitlets.config import Config
    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    config.Exchange.root = str(course / "exchange")      # unused: keeps nbgrader off /srv/nbgrader
    config.ClearSolutions.code_stub = {"python": ""}     # the placeholder stays: see the docstring
    steps = list(GenerateAssignment.class_traits()["preprocessors"].default())
    steps.insert(steps.index(ClearSolutions) + 1, open_answer_cells())
    config.GenerateAssignment.preprocessors = steps
    config.Execute.timeout = timeout                     # seconds per cell, then it is interrupted
    return config


def nbgrader_api(course: Path, timeout: int = TIMEOUT):
    # nbgrader runs the `alembic` command of its environment to set up the gradebook: make it
    # found when this runs as .venv/bin/python without the venv on PATH
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join(filter(None, [bin_dir, os.environ.get("PATH")]))
    from nbgrader.apps import NbGraderAPI
    config = nbgrader_config(course, timeout)
    config.NbGraderAPI.log_level = "WARN"
    return NbGraderAPI(config=config)


def write_config_file(course: Path) -> None:
    (course / "nbgrader_config.py").write_text(
        "# nbgrader's settings for this course folder: those of tools/assignments.py\n"
        "import sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from tools.assignments import nbgrader_config  # noqa: E402\n\n"
        f"get_config().merge(nbgrader_config(__import__('pathlib').Path({str(course)!r})))  # noqa: F821\n",
        encoding="utf-8")


# --- make assignments: the student edition ------------------------------------------------

def generate(notebooks: Path = NOTEBOOKS, course: Path = COURSE, student: Path = STUDENT) -> list[Path]:
    """nbgrader's generate step for every notebook in `notebooks`: source/ and release/ of the
    course folder are written anew (nothing stale stays), then the student edition is gathered
    into `student` (emptied first). Returns the student notebooks written."""
    sources = sorted(notebooks.glob("*.ipynb"))
    if not sources:
        raise ValueError(f"no notebooks in {notebooks}")
    for folder in (course, student):
        if folder.resolve() == notebooks.resolve() or notebooks.resolve() in folder.resolve().parents:
            raise ValueError(f"{folder} is inside {notebooks}: the instructor's notebooks would be lost")
    for folder in (course / "source", course / "release", student):
        shutil.rmtree(folder, ignore_errors=True)
    course.mkdir(parents=True, exist_ok=True)
    write_config_file(course)
    api = nbgrader_api(course)
    student.mkdir(parents=True)
    written = []
    for path in sources:
        assignment = path.stem
        (course / "source" / assignment).mkdir(parents=True)
        shutil.copy2(path, course / "source" / assignment / path.name)
        result = api.generate_assignment(assignment)
        released = course / "release" / assignment / path.name
        if not result["success"] or not released.exists():
            raise RuntimeError(f"nbgrader could not make the student edition of {path.name}:\n"
                               f"{result.get('log', '')}{result.get('error', '')}")
        nb = nbformat.read(released, as_version=4)
        shutil.copy2(released, student / path.name)
        written.append(student / path.name)
        answers = sum(bool(c.metadata.get("nbgrader", {}).get("solution")) for c in nb.cells)
        checks = sum(bool(c.metadata.get("nbgrader", {}).get("grade")) for c in nb.cells)
        print(f"{path.name}: {answers} answer cells without their solutions, {checks} graded checks")
    return written


# --- make grade ----------------------------------------------------------------------------

@dataclass
class Graded:
    """One submitted file: what it was graded as, its score and why."""
    student: str
    file: str
    assignment: str = ""
    score: float = 0.0
    max_score: float | None = None
    exercises: dict = field(default_factory=dict)    # check cell -> (score, max)
    reasons: list = field(default_factory=list)
    feedback: str = ""

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) or "every check passed"


def assignments_in(course: Path) -> dict[str, set]:
    """{assignment: the grade ids of its nbgrader cells}, from the course's source folder."""
    found = {}
    for path in sorted((course / "source").glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        found[path.parent.name] = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                                   if "nbgrader" in c.metadata}
    return found


def find_submissions(folder: Path, names: list[str]) -> list[tuple[str, Path, str]]:
    """(student, file, the notebook its name says) for every file in `folder`, in any of the
    layouts grade() accepts; the notebook is "" when the name says none of `names`."""
    found = []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_dir() or any(p.startswith(".") or p == "__pycache__" for p in parts):
            continue
        if len(parts) == 1:                                  # <student>_<notebook>.ipynb
            said = next((n for n in names if path.name.endswith(f"_{n}.ipynb")), "")
            student = path.name[:-len(f"_{said}.ipynb")] if said else path.stem.split("_")[0]
        else:                                                # <student>/[<assignment>/]<notebook>.ipynb
            student = parts[0]
            said = path.stem if path.stem in names else ""
        found.append((student, path, said))
    return found


def grade(submissions: Path, course: Path = COURSE, assignment: str | None = None,
          timeout: int = TIMEOUT) -> list[Graded]:
    """Autograde every notebook in `submissions` with nbgrader, write feedback per student and
    course/grades.csv; returns one Graded per file found. Nothing a student sent stops the run:
    each file gets a score and a reason."""
    known = assignments_in(course)
    if not known:
        raise ValueError(f"no assignments in {course}: run `make assignments` first")
    if assignment:
        matches = [a for a in known if a == assignment or a.startswith(f"{assignment}_")]
        if len(matches) != 1:
            raise ValueError(f"no assignment {assignment!r}; the assignments are {', '.join(known)}")
        assignment = matches[0]
    if not submissions.is_dir():
        raise ValueError(f"{submissions} is not a folder of submissions")
    api = nbgrader_api(course, timeout)
    results, first_file = [], {}
    for student, path, said in find_submissions(submissions, list(known)):
        graded = Graded(student, str(path.relative_to(submissions)), said)
        results.append(graded)
        try:
            nb = accept(graded, path, known, assignment)
            if nb is None:
                continue
            earlier = first_file.setdefault((student, graded.assignment), graded.file)
            if earlier != graded.file:
                graded.reasons.append(f"a second notebook of {graded.assignment} from {student}: "
                                      f"it replaces {earlier} in the gradebook")
            autograde(api, course, graded, nb, timeout)
        except Exception as err:          # whatever a file holds, the others are still graded
            graded.reasons.append(f"could not be graded ({type(err).__name__}: {err})")
    maxima = max_scores(course)
    for graded in results:
        graded.max_score = maxima.get(graded.assignment)
        if not graded.exercises and not graded.feedback:        # not graded: say why
            graded.feedback = write_refusal(course, graded)
    write_csv(course / "grades.csv", results)
    return results


def accept(graded: Graded, path: Path, known: dict, assignment: str | None):
    """The notebook to grade, or None with the reason it is not graded in `graded`. Which
    assignment a notebook belongs to is read from its nbgrader cells, whatever its name."""
    nb, problem = read_notebook(path)
    if problem:
        graded.reasons.append(problem)
        return None
    ids = {c.metadata["nbgrader"].get("grade_id") for c in nb.cells
           if isinstance(c.metadata.get("nbgrader"), dict)}
    its = max(known, key=lambda a: len(known[a] & ids))
    said = graded.assignment
    if not known[its] & ids:
        graded.reasons.append(
            "its exercise cells carry no nbgrader data (saved by a program that drops it? send "
            "the notebook as JupyterLab saves it): not graded" if said else
            "not a notebook of this course's assignments (none of its exercise cells is there): "
            "not graded")
        return None
    if said and said != its:
        graded.reasons.append(f"its name says {said}, but it is a notebook of {its}: not graded")
        return None
    graded.assignment = its
    if assignment and its != assignment:
        graded.reasons.append(f"a notebook of {its}, not of {assignment}: not graded")
        return None
    return nb


def read_notebook(path: Path):
    """(notebook, None), or (None, why it is not one)."""
    if path.suffix != ".ipynb":
        return None, f"not a notebook file ({path.suffix or 'no extension'}): not graded"
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        return None, f"not a readable notebook ({type(err).__name__}: {first[:120]}): not graded"
    return nb, None


def autograde(api, course: Path, graded: Graded, nb, timeout: int) -> None:
    """nbgrader's autograde and feedback for one accepted submission."""
    from nbgrader.api import Gradebook
    student, assignment = graded.student, graded.assignment
    target = course / "submitted" / student / assignment
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    name = f"{assignment}.ipynb"
    nbformat.write(nb, target / name)
    graded.reasons += edited_checks(course / "release" / assignment / name, nb)
    result = api.autograde(assignment, student)
    if not result["success"]:
        last = (result.get("error") or result.get("log") or "").strip().splitlines()
        graded.reasons.append(f"nbgrader could not grade it ({last[-1] if last else 'no message'})")
        return
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(assignment, assignment, student)
        graded.score = notebook.score
        for grade in sorted(notebook.grades, key=lambda g: g.name):
            if grade.cell.cell_type == "code":
                key = grade.name.removeprefix("ex").removesuffix("-check").replace("-", ".", 1)
                graded.exercises[key] = (grade.score, grade.max_score)
    graded.reasons += failures(course / "autograded" / student / assignment / name, timeout)
    api.generate_feedback(assignment, student)
    feedback = course / "feedback" / student / assignment / f"{assignment}.html"
    graded.feedback = str(feedback) if feedback.exists() else ""


def edited_checks(released: Path, nb) -> list[str]:
    """A note for each check cell the student changed (nbgrader grades the original)."""
    original = {c.metadata["nbgrader"]["grade_id"]: c.source
                for c in nbformat.read(released, as_version=4).cells
                if c.metadata.get("nbgrader", {}).get("grade")}
    notes = []
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in original and cell.source.strip() != original[grade_id].strip():
            notes.append(f"the check cell {grade_id} was edited: graded with the original")
    return notes


def failures(autograded: Path, timeout: int) -> list[str]:
    """Why points were lost: each failed check's message, each answer cell that raised or ran
    out of time."""
    if not autograded.exists():
        return []
    reasons = []
    for index, cell in enumerate(nbformat.read(autograded, as_version=4).cells):
        role = cell.metadata.get("nbgrader", {})
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if not errors:
            continue
        where = (f"check {role['grade_id']}" if role.get("grade") else
                 f"answer cell {role['grade_id']}" if role.get("solution") else f"cell {index + 1}")
        if any(e["ename"] == "CellTimeoutError" for e in errors):     # nbgrader's timeout
            why = f"ran longer than {timeout} s (the time limit per cell) and was stopped"
        else:
            why = f"{errors[0]['ename']}: {errors[0].get('evalue', '')}".strip().rstrip(":")
        reasons.append(f"{where}: {' '.join(why.split())[:200]}")
    return reasons


def max_scores(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {a.name: a.max_score for a in gradebook.assignments}


def write_refusal(course: Path, graded: Graded) -> str:
    """A short feedback page for a file that could not be graded."""
    folder = course / "feedback" / graded.student
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / f"{Path(graded.file).name}.not-graded.html"
    page.write_text(f"<!doctype html><html lang='en'><meta charset='utf-8'><title>Not graded</title>"
                    f"<h1>{html.escape(graded.file)}: not graded</h1>"
                    f"<p>{html.escape(graded.reason)}</p></html>\n", encoding="utf-8")
    return str(page)


def write_csv(path: Path, results: list[Graded]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["student", "assignment", "file", "score", "max_score", "exercises",
                         "reason", "feedback"])
        for g in results:
            writer.writerow([g.student, g.assignment, g.file, f"{g.score:g}",
                             "" if g.max_score is None else f"{g.max_score:g}",
                             " ".join(f"{k}={s:g}/{m:g}" for k, (s, m) in g.exercises.items()),
                             g.reason, g.feedback])


# --- the command line ----------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("generate", help="the student edition (make assignments)")
    to_grade = commands.add_parser("grade", help="autograde a folder of submissions (make grade)")
    to_grade.add_argument("submissions", help="the folder of students' notebooks")
    to_grade.add_argument("--assignment", help="grade only this notebook, e.g. 06")
    to_grade.add_argument("--timeout", type=int, default=TIMEOUT,
                          help=f"seconds a cell may run before it is stopped (default {TIMEOUT})")
    marking = commands.add_parser("mark", help="write the nbgrader metadata of notebooks/")
    marking.add_argument("--check", action="store_true", help="change nothing; exit 1 if out of date")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (ValueError, RuntimeError) as err:
        print(f"{Path(__file__).name}: {err}", file=sys.stderr)
        return 1


def run(args) -> int:
    if args.command == "generate":
        written = generate()
        print(f"student edition: {len(written)} notebooks in {STUDENT}\n"
              f"nbgrader course folder (source, release, gradebook): {COURSE}")
    elif args.command == "grade":
        if not args.submissions.strip():
            raise ValueError("name the folder of students' notebooks: make grade SUBMISSIONS=folder")
        warnings.filterwarnings("ignore", module="nbgrader")    # SQLAlchemy's notes on nbgrader's sessions
        results = grade(Path(args.submissions), assignment=args.assignment, timeout=args.timeout)
        for g in results:
            score = f"{g.score:g}/{g.max_score:g}" if g.max_score is not None else "-"
            print(f"{g.student:16s} {g.assignment or '?':30s} {score:>7s}  {g.reason}")
        print(f"{len(results)} files; gradebook {COURSE / 'grades.csv'}; feedback in {COURSE / 'feedback'}")
    else:
        stale = []
        for path in sorted(NOTEBOOKS.glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            if mark(nb):
                stale.append(path.name)
                if not args.check:
                    nbformat.write(nb, path)
        for name in stale:
            print(f"{name}: nbgrader metadata {'out of date' if args.check else 'updated'}")
        return 1 if args.check and stale else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
