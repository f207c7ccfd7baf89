"""The student edition: every notebook without its worked solutions.

    python tools/student.py                    # writes build/student/notebooks/*.ipynb
    python tools/student.py --out DIR          # writes DIR/*.ipynb

Each cell tagged `solution` is removed; nothing else changes (the exercise stubs and their
check cells stay, and still print ✓ or ✗ and why). The repository stays the instructor
edition; build/ is not in git. The copies import `helpers` like the originals (it is installed
into .venv and finds data/ and the model cache on its own), so they run from any folder.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
OUT = REPO / "build" / "student" / "notebooks"


def is_solution(cell) -> bool:
    return "solution" in cell.metadata.get("tags", [])


def student_copy(nb):
    """The notebook without its solution cells (a new object; `nb` is left as it was)."""
    copy = nbformat.from_dict(nb)
    copy.cells = [cell for cell in copy.cells if not is_solution(cell)]
    return copy


def write_edition(out: Path = OUT, notebooks: Path = NOTEBOOKS) -> list[Path]:
    """Write the student copy of every notebook in `notebooks` into `out` (copies from an
    earlier run are replaced); returns the paths written."""
    sources = sorted(notebooks.glob("*.ipynb"))
    if not sources:
        raise ValueError(f"no notebooks in {notebooks}")
    if out.resolve() == notebooks.resolve():
        raise ValueError(f"out must be another folder than {notebooks}: the solutions would be lost")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sources:
        nb = nbformat.read(path, as_version=4)
        copy = student_copy(nb)
        nbformat.write(copy, out / path.name)
        written.append(out / path.name)
        print(f"{path.name}: {len(nb.cells) - len(copy.cells)} solution cells removed")
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder to write (default {OUT.relative_to(REPO)})")
    args = parser.parse_args(argv)
    written = write_edition(args.out)
    print(f"student edition: {len(written)} notebooks in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
