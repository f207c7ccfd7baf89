"""The notebooks' run times, written into README.md, TEACHING.md and each notebook's title cell
from one measured source, benchmarks/series_times.txt (the summary `python -m benchmarks series`
prints and, with BENCH_SAVE=1, saves there), so the three cannot disagree.

    python tools/run_times.py            # rewrite the run times in the texts
    python tools/run_times.py --check    # change nothing; say what is out of date (exit 1)

After the models change: `BENCH_SAVE=1 python -m benchmarks series` on a quiet machine, then
this tool, then `make slides`, and commit the four kinds of files together. A test fails when a
text differs from what this tool would write.

What it writes:
 - README.md, the notebooks table: each row's last cell, "~75 s / ~17 s" (first run in order,
   after the notebooks before it / every model cached);
 - README.md and TEACHING.md: the table between the markers `<!-- run times -->` and
   `<!-- end of run times -->`, with the date of the measurement;
 - each notebook's title cell: the sentence that starts "**Expected run time**" and ends with
   "`python -m benchmarks series`)." The rest of the paragraph is the notebook's own.
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "benchmarks" / "series_times.txt"
README, TEACHING = REPO / "README.md", REPO / "TEACHING.md"
NOTEBOOKS = REPO / "notebooks"
BEGIN, END = "<!-- run times -->", "<!-- end of run times -->"
TITLE_SENTENCE = re.compile(r"\*\*Expected run time\*\*.*?`python -m benchmarks series`\)\.", re.S)
NAMES = {"01": "vanilla", "02": "denoising", "03": "sparse", "04": "contractive", "05": "stacked",
         "06": "VAE, network view", "07": "VAE, probability view", "08": "summary",
         "09": "beyond the lecture"}


@dataclass
class Measured:
    date: str
    conditions: str                # "2 cores, bundled data; load ..."
    cold: dict                     # notebook number -> seconds, run in order on an empty cache
    warm: dict                     # notebook number -> seconds, every model cached
    peak: dict                     # notebook number -> MiB
    total: tuple                   # (cold, warm) seconds


def measured(path: Path | None = None) -> Measured:
    path = path or SOURCE
    text = path.read_text(encoding="utf-8")
    head = re.search(r"^series benchmark (\d{4}-\d\d-\d\d): (.*)$", text, re.M)
    rows = re.findall(r"^(\d\d)_\S+\.ipynb\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", text, re.M)
    total = re.search(r"^total\s+([\d.]+)\s+([\d.]+)", text, re.M)
    if not (head and rows and total):
        raise ValueError(f"{path} is not the summary of `python -m benchmarks series`")
    return Measured(head.group(1), head.group(2), {n: float(c) for n, c, _, _ in rows},
                    {n: float(w) for n, _, w, _ in rows}, {n: float(p) for n, _, _, p in rows},
                    (float(total.group(1)), float(total.group(2))))


def reused() -> dict[str, list[str]]:
    """{notebook: the earlier notebooks whose trained models it loads again} (helpers.recipes)."""
    from helpers import recipes
    found: dict[str, set] = {}
    for recipe in recipes.ALL:
        for user in recipe.used_in:
            found.setdefault(user, set()).add(recipe.notebook)
    return {n: sorted(v) for n, v in found.items()}


def _listed(numbers: list[str]) -> str:
    if len(numbers) > 2 and [int(n) for n in numbers] == list(range(int(numbers[0]), int(numbers[-1]) + 1)):
        return f"notebooks {numbers[0]}-{numbers[-1]}"
    return "notebook " + numbers[0] if len(numbers) == 1 else "notebooks " + " and ".join(numbers)


def title_sentence(m: Measured, number: str, earlier: list[str]) -> str:
    first = f"about {m.cold[number]:.0f} s the first time"
    if earlier:
        first += f" after {_listed(earlier)}, whose models it loads again (longer without them)"
    return (f"**Expected run time** on a 2-core CPU: {first}, and about {m.warm[number]:.0f} s once "
            f"its models are cached (measured on {m.date} with `python -m benchmarks series`).")


def table(m: Measured, teaching: bool) -> str:
    """The table of both texts, between its markers."""
    if teaching:
        lines = [f"Measured on {m.date} ({m.conditions}), `python -m benchmarks series`:", "",
                 "| notebook | first run, in order, empty cache | every model cached |", "|---|---|---|"]
        lines += [f"| {n} {NAMES.get(n, '')} | {m.cold[n]:.0f} s | {m.warm[n]:.0f} s |" for n in sorted(m.cold)]
        lines.append(f"| the whole series | {m.total[0] / 60:.1f} minutes | {m.total[1] / 60:.1f} minutes |")
    else:
        lines = [f"Measured on {m.date} ({m.conditions}):", "",
                 "| notebook | empty cache (s) | filled cache (s) | peak memory (MiB) |", "|---|---|---|---|"]
        lines += [f"| {n} {NAMES.get(n, '')} | {m.cold[n]:.0f} | {m.warm[n]:.0f} | {m.peak[n]:,.0f} |"
                  for n in sorted(m.cold)]
        lines.append(f"| **whole series** | **{m.total[0]:.0f}** | **{m.total[1]:.0f}** | |")
    return "\n".join([BEGIN, "", *lines, "", END])


def rewrite_markdown(text: str, m: Measured, teaching: bool, name: str) -> str:
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise ValueError(f"{name}: put one `{BEGIN}` ... `{END}` around its run-time table")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    text = text[:start] + table(m, teaching) + text[end:]
    if not teaching:                      # the last cell of each row of the notebooks table
        def row(match):
            n = match.group(1)
            return f"{match.group(2)}~{m.cold[n]:.0f} s / ~{m.warm[n]:.0f} s |" if n in m.cold else match.group(0)
        text = re.sub(r"^(?=\| \[(\d\d) )(.*\| )[^|]*\|$", row, text, flags=re.M)
    return text


def rewrite_title(nb, m: Measured, number: str, earlier: list[str], name: str) -> bool:
    """Put the measured sentence into the title cell; True if it changed."""
    cell = nb.cells[0]
    if not TITLE_SENTENCE.search(cell.source):
        raise ValueError(f"{name}: its title cell has no sentence from '**Expected run time**' to "
                         f"'`python -m benchmarks series`).'")
    source = TITLE_SENTENCE.sub(lambda _: title_sentence(m, number, earlier), cell.source, count=1)
    changed, cell.source = source != cell.source, source
    return changed


def update(check: bool) -> list[str]:
    """Rewrite every text (unless `check`); returns the names of those that were out of date."""
    m, earlier = measured(), reused()
    stale = []
    for path, teaching in ((README, False), (TEACHING, True)):
        text = path.read_text(encoding="utf-8")
        new = rewrite_markdown(text, m, teaching, path.name)
        if new != text:
            stale.append(path.name)
            if not check:
                path.write_text(new, encoding="utf-8")
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        number = path.name[:2]
        if number not in m.cold:
            raise ValueError(f"{SOURCE.name} has no run time for {path.name}: run the benchmark again")
        if rewrite_title(nb, m, number, earlier.get(number, []), path.name):
            stale.append(path.name)
            if not check:
                nbformat.write(nb, path)
    return stale


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if out of date")
    args = parser.parse_args(argv)
    stale = update(args.check)
    for name in stale:
        print(f"{name}: run times {'out of date' if args.check else 'updated'} (from {SOURCE.name})")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
