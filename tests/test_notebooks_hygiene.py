"""Notebooks are kept in git without outputs, and each follows the course's skeleton."""
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_outputs(path):
    cells = json.loads(path.read_text())["cells"]
    dirty = [i for i, c in enumerate(cells) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_the_skeleton(path):
    nb = json.loads(path.read_text())
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    for part in ["Learning goals", "Prerequisites", "Expected run time", "## Summary",
                 "## Exercises", "## References"]:
        assert part in text, f"{path.name} has no '{part}' section"
    solutions = [c for c in nb["cells"] if c["cell_type"] == "code"
                 and c.get("metadata", {}).get("jupyter", {}).get("source_hidden")]
    assert len(solutions) >= 3, f"{path.name}: at least three exercises with collapsed solutions"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
