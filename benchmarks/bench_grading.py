"""Grading (`make grade`): 30 students' notebooks 06 autograded by nbgrader, with the model cache
filled (run `make models` first: grading then trains nothing).

The course here holds notebook 06 only, generated as `make assignments` does, into a temporary
folder. The 30 submissions: 10 with every exercise right, 10 untouched (placeholders), 10 with
exercise 2 wrong. Printed: the wall time of the whole grading and per notebook, and, as a
reference measured in the same run, one plain execution of the student's notebook 06 in a fresh
kernel (so the ratio says what nbgrader adds: restoring cells, the gradebook, feedback pages).
Grading runs the notebooks one after the other; the machine's load is printed before and after.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tools import assignments  # noqa: E402

STUDENTS = 30


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def submissions(course: Path, name: str, folder: Path) -> None:
    """Write STUDENTS notebooks <student>_<name>.ipynb: a third right, a third untouched, a third
    with exercise 2 wrong."""
    release = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
    source = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if "nbgrader" in c.metadata}
    for i in range(STUDENTS):
        nb = nbformat.from_dict(release)
        for cell in nb.cells:
            role = cell.metadata.get("nbgrader", {})
            if role.get("solution") and i % 3 != 1:
                cell.source = "\n".join(line for line in answers[role["grade_id"]].split("\n")
                                        if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)
                if i % 3 == 2 and role["grade_id"].endswith("-2-answer"):
                    cell.source = cell.source.replace("return mu + ", "return mu - ")
        nbformat.write(nb, folder / f"student{i + 1:02d}_{name}.ipynb")


def plain_run(path: Path) -> float:
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - started


def main() -> None:
    import warnings
    warnings.filterwarnings("ignore", module="nbgrader")
    source = next((REPO / "notebooks").glob("06_*.ipynb"))
    with tempfile.TemporaryDirectory(prefix="ae-bench-grading-") as tmp:
        root = Path(tmp)
        (root / "notebooks").mkdir()
        shutil.copy(source, root / "notebooks" / source.name)
        course = root / "course"
        assignments.generate(root / "notebooks", course, root / "student")
        folder = root / "submitted"
        folder.mkdir()
        submissions(course, source.stem, folder)
        print(f"load before: {load()} ({os.cpu_count()} cores)", flush=True)
        reference = plain_run(root / "student" / source.name)
        print(f"one plain run of the student's notebook 06: {reference:.1f} s", flush=True)
        started = time.perf_counter()
        results = assignments.grade(folder, course, timeout=assignments.TIMEOUT)
        seconds = time.perf_counter() - started
        print(f"load after: {load()}")
    scores = sorted(g.score for g in results)
    expected = sorted([3.0] * 10 + [0.0] * 10 + [2.0] * 10)
    print(f"graded {len(results)} notebooks 06 in {seconds:.0f} s: {seconds / len(results):.1f} s each, "
          f"{seconds / len(results) / reference:.2f} times a plain run; scores "
          f"{'as expected' if scores == expected else f'UNEXPECTED: {scores}'}")
    print(f"grading_s={seconds:.0f} per_notebook_s={seconds / len(results):.1f} "
          f"vs_plain_run={seconds / len(results) / reference:.2f}")


if __name__ == "__main__":
    main()
