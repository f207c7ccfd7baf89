"""The notebooks' run times, as README.md, TEACHING.md and each notebook's title cell quote them,
all come from one measurement, benchmarks/series_times.txt (`python -m benchmarks series`),
through tools/run_times.py: the texts cannot disagree with it, nor with each other."""
import re

from tools import run_times


def test_the_texts_quote_the_measured_run_times():
    stale = run_times.update(check=True)
    assert not stale, f"run `python tools/run_times.py`: out of date in {stale}"


def test_the_source_is_a_benchmark_summary_of_every_notebook():
    m = run_times.measured()
    numbers = sorted(p.name[:2] for p in run_times.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    assert sorted(m.cold) == sorted(m.warm) == numbers
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", m.date)
    assert abs(sum(m.cold.values()) - m.total[0]) <= len(numbers) / 2 + 0.5   # rounded seconds


def test_a_new_measurement_reaches_every_text(tmp_path, monkeypatch):
    """Updating the figures is one file and one command: a changed source makes every text stale."""
    source = run_times.SOURCE.read_text(encoding="utf-8")
    changed = re.sub(r"^(01_\S+\s+)([\d.]+)", lambda m: m.group(1) + "99.0", source, flags=re.M)
    changed = re.sub(r"^(06_\S+\s+[\d.]+\s+)([\d.]+)", lambda m: m.group(1) + "7.0", changed, flags=re.M)
    (tmp_path / "series_times.txt").write_text(changed.replace("2026-", "2027-"), encoding="utf-8")
    monkeypatch.setattr(run_times, "SOURCE", tmp_path / "series_times.txt")
    stale = run_times.update(check=True)
    assert {"README.md", "TEACHING.md"} <= set(stale)
    assert len([s for s in stale if s.endswith(".ipynb")]) == len(list(run_times.NOTEBOOKS.glob("*.ipynb")))
