"""A pytest plugin for a nested nbval run (tests/test_student_edition.py): writes what each
notebook cell printed to the JSON-lines file named by $NBVAL_OUTPUTS. nbval keeps a cell's
outputs in `item.test_outputs` after running it."""
import json
import os

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    yield
    if call.when == "call" and hasattr(item, "cell"):
        outputs = getattr(item, "test_outputs", None) or []
        printed = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
        with open(os.environ["NBVAL_OUTPUTS"], "a", encoding="utf-8") as f:
            f.write(json.dumps({"notebook": item.path.name, "cell": item.cell_num,
                                "source": item.cell.source, "printed": printed}) + "\n")
