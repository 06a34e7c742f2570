"""The benchmark's results: machine facts, figures and goals, as a rich table and as docs/performance.md.

docs/performance.md keeps one results block per configuration (rows, KRs, pandas KRs, seed), so the
debug-size run and the full-size run sit side by side; a rerun replaces only its own block, and the text
outside the blocks (how to read the figures, profiling findings) is left as written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
import re
import subprocess
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.data import MartFacts
from benchmarks.measure import PhaseStats
from benchmarks.phases import PhaseValue

GIB = 1024**3
ENGINE_FILES = (
    "engine.py",
    "specs.py",
    "kr_series.sql",
    "kr_numbered.sql",
    "kr_members.sql",
    "prefix_sums.py",
    "kr_grouped.sql",
    "kr_scores.sql",
)
GOAL_RATIO_TO_SQL = 1.3
GOAL_SPEEDUP_OVER_PANDAS = 30.0
GOAL_PEAK_RSS = 2 * GIB
BLOCK = re.compile(r"<!-- bench:begin (?P<key>[^>]*) -->\n.*?<!-- bench:end -->\n", re.S)
INTRO = """# Scoring performance

`make bench` (or `.venv/bin/python -m benchmarks.bench_scoring [--rows N] [--krs K] [--pandas-krs M] [--seed S]`)
generates N deterministic mart rows in a temporary DuckDB file and K key results, then times in one run:

- **(a) engine**: `compute_scores` from `pipelines/lib/scoring/engine.py` (spec tables, `kr_series.sql`, the
  filter matching of `kr_members.sql`, the running totals of `prefix_sums.py`, `kr_grouped.sql` and
  `kr_scores.sql`, under the scoring memory limit `OKR_SCORING_MEMORY_LIMIT`, default 1.5GB; no history
  writes);
- **(b) hand SQL**: one hand-written DuckDB aggregation of the same actuals (`benchmarks/handsql.py`: a
  single GROUP BY over the mart joined to a one-row-per-KR-measure filter table);
- **(c) pandas**: an analyst's loop that filters a DataFrame and sums, once per KR, timed on M KRs and
  extrapolated linearly to K.

## How to read it

Times are wall-clock seconds on the machine described in each block. **a/b** is how much the engine's
scoring pass costs over the bare aggregation (goal ≤ 1.3: it computes daily series, contributions and
scores besides actuals); **c/a** is how much faster the engine is than the pandas loop (goal ≥ 30).
Each implementation runs in its own child process, so its **peak RSS** (`ru_maxrss`) is its own; the goal
(≤ 2 GiB) applies to the engine. **DuckDB peak** is the largest `duckdb_memory()` total sampled every 50 ms.
The actuals of (a), (b) and (c) are checked to agree (relative 1e-9) before a block is written: (a) and
(b) on every KR, (c) on its sample. A phase that fails (e.g. out of memory) is reported with its time to
failure, and what could not be checked says so. Each child runs under an address-space cap (85 % of RAM)
so that a failing phase fails alone instead of calling in the OOM killer. The N rows are rows of
`marts.campaign_daily_metrics` (one per campaign, day and metric: five metrics per campaign-day).
"""


@dataclass
class Results:
    """Everything one run measured, in the form both renderers need."""

    rows: int
    krs: int
    pandas_krs: int
    seed: int
    as_of: dt.date
    facts: MartFacts
    generate: PhaseStats
    engine: PhaseValue
    hand_sql: PhaseValue
    pandas: PhaseValue
    checks: list[str] = field(default_factory=list)
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(microsecond=0))

    @property
    def key(self) -> str:
        return f"rows={self.rows} krs={self.krs} pandas_krs={self.pandas_krs} seed={self.seed}"

    @property
    def pandas_seconds(self) -> float:
        """The loop's time scaled from the sample to all K KRs (linear: every KR is one filter-and-sum)."""
        return self.pandas.stats.seconds / max(self.pandas_krs, 1) * self.krs


def _run(command: list[str]) -> str:
    """A command's output for the machine facts; a missing tool must not fail a finished benchmark."""
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip("\n")
    except (OSError, subprocess.CalledProcessError):
        return "(unavailable)"


def engine_fingerprint() -> str:
    """Short hash of the scoring files: the engine is edited often, so a block says which version it timed."""
    folder = Path(__file__).resolve().parent.parent / "pipelines" / "lib" / "scoring"
    digest = hashlib.sha256()
    for name in ENGINE_FILES:
        digest.update((folder / name).read_bytes())
    return f"sha256 {digest.hexdigest()[:12]} of {', '.join(ENGINE_FILES)}"


def machine_facts() -> dict[str, str]:
    """nproc, free -g, CPU model and library versions: what a reader needs to compare two runs."""
    cpu = "(unknown)"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line]
        cpu = models[0] if models else cpu
    return {
        "nproc": _run(["nproc"]),
        "free -g": _run(["free", "-g"]),
        "CPU": cpu,
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "DuckDB": version("duckdb"),
        "pandas": version("pandas"),
        "pyarrow": version("pyarrow"),
        "engine": engine_fingerprint(),
    }


def ratio(numerator: PhaseValue | float, denominator: PhaseValue) -> float | None:
    """None when either side failed: a ratio to a failed phase would be a guess."""
    if denominator.error or (isinstance(numerator, PhaseValue) and numerator.error):
        return None
    top = numerator.stats.seconds if isinstance(numerator, PhaseValue) else numerator
    return top / denominator.stats.seconds if denominator.stats.seconds else None


def goals(r: Results) -> list[tuple[str, str, str]]:
    """(goal, measured, verdict) for the issue's three goals."""
    a_b, c_a = ratio(r.engine, r.hand_sql), ratio(r.pandas_seconds, r.engine)
    rss = r.engine.stats.peak_rss_bytes
    failed = f"engine failed after {r.engine.stats.seconds:.1f} s" if r.engine.error else ""
    return [
        ("engine ≤ 1.3× hand SQL", f"{a_b:.2f}×" if a_b else failed or "n/a", _verdict(a_b, GOAL_RATIO_TO_SQL, True)),
        (
            "engine ≥ 30× faster than pandas",
            f"{c_a:.1f}×" if c_a else failed or "n/a",
            _verdict(c_a, GOAL_SPEEDUP_OVER_PANDAS, False),
        ),
        (
            "engine peak RSS ≤ 2 GiB",
            f"{rss / GIB:.2f} GiB",
            "met" if rss <= GOAL_PEAK_RSS and not failed else "NOT met",
        ),
    ]


def _verdict(value: float | None, limit: float, at_most: bool) -> str:
    """A goal without a figure (a phase failed) is not met: it was not shown to be met."""
    if value is None:
        return "NOT met (no figure)"
    return "met" if (value <= limit if at_most else value >= limit) else "NOT met"


def _gib(value: float | None) -> str:
    """GiB with two decimals; MiB below one GiB, where two GiB decimals would round small phases to zero."""
    if value is None:
        return "–"
    return f"{value / GIB:.2f} GiB" if value >= GIB else f"{value / 1024**2:.0f} MiB"


def phase_rows(r: Results) -> list[tuple[str, str, str, str, str]]:
    """(phase, seconds, peak RSS, DuckDB peak, notes) for the table and the markdown alike."""
    engine_note = f"okr_defs load {r.engine.notes.get('defs_load_seconds', 0):.1f} s (not counted)"
    frame_note = (
        f"DataFrame load {r.pandas.notes.get('frame_load_seconds', 0):.1f} s (not counted), "
        f"frame {_gib(r.pandas.notes.get('frame_bytes', 0))}"
    )
    rows = [
        ("generate mart (child process)", r.generate, None, f"{r.facts.campaigns:,} campaigns × {r.facts.days} days"),
        ("(a) engine compute_scores", r.engine.stats, r.engine.error, engine_note),
        ("(b) hand SQL, one GROUP BY", r.hand_sql.stats, r.hand_sql.error, "KR table load included"),
        (f"(c) pandas loop, {r.pandas_krs} KRs timed", r.pandas.stats, r.pandas.error, frame_note),
    ]
    out = []
    for name, stats, error, note in rows:
        seconds = f"{stats.seconds:.2f}" + (" (failed)" if error else "")
        out.append((name, seconds, _gib(stats.peak_rss_bytes), _gib(stats.duckdb_peak_bytes), error or note))
    scaled = f"{r.pandas_seconds:.2f}"
    out.append((f"(c) pandas extrapolated to {r.krs} KRs", scaled, "–", "–", f"{r.pandas_krs} → {r.krs}, linear"))
    return out


def ratio_rows(r: Results) -> list[tuple[str, str]]:
    """a/b and c/a as printed; n/a rather than a ratio to a phase that failed."""
    a_b, c_a = ratio(r.engine, r.hand_sql), ratio(r.pandas_seconds, r.engine)
    return [
        ("a/b (engine ÷ hand SQL)", f"{a_b:.2f}" if a_b else "n/a (a phase failed)"),
        ("c/a (pandas, extrapolated ÷ engine)", f"{c_a:.1f}" if c_a else "n/a (a phase failed)"),
    ]


def print_results(console: Console, r: Results) -> None:
    """The run's figures on the terminal."""
    table = Table(title=f"Scoring benchmark: {r.rows:,} rows × {r.krs:,} KRs (seed {r.seed}, as of {r.as_of})")
    for column in ("phase", "seconds", "peak RSS", "DuckDB peak", "notes"):
        table.add_column(column, justify="right" if column in {"seconds", "peak RSS", "DuckDB peak"} else "left")
    for row in phase_rows(r):
        table.add_row(*row)
    console.print(table)
    summary = Table(show_header=False)
    for name, value in ratio_rows(r):
        summary.add_row(name, value, "")
    for name, measured, verdict in goals(r):
        summary.add_row(f"goal: {name}", measured, f"[{'green' if verdict == 'met' else 'red'}]{verdict}")
    console.print(summary)
    for line in r.checks:
        console.print(f"check: {line}")


def markdown_block(r: Results, machine: dict[str, str]) -> str:
    """One run as a markdown section fenced by markers, so a rerun can replace exactly this block."""
    lines = [f"<!-- bench:begin {r.key} -->", f"## {r.rows:,} rows × {r.krs:,} KRs (seed {r.seed})", ""]
    lines += [f"Run {r.started:%Y-%m-%d %H:%M} UTC, scored as of {r.as_of}. Mart: {r.facts.rows:,} rows, "]
    lines[-1] += f"{r.facts.campaigns:,} campaigns × {r.facts.days} days, {r.facts.null_values:,} NULL values."
    lines += ["", "| machine | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in machine.items() if k != "free -g"]
    lines += ["", "`free -g` (after the run):", "", "```", machine.get("free -g", ""), "```"]
    lines += ["", "| phase | seconds | peak RSS | DuckDB peak | notes |", "|---|---:|---:|---:|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in phase_rows(r)]
    lines += ["", "| ratio | value |", "|---|---:|"] + [f"| {n} | {v} |" for n, v in ratio_rows(r)]
    lines += ["", "| goal | measured | verdict |", "|---|---:|---|"]
    lines += [f"| {g} | {m} | {v} |" for g, m, v in goals(r)]
    lines += ["", *[f"- {line}" for line in r.checks], "<!-- bench:end -->", ""]
    return "\n".join(lines)


def write_markdown(path: Path, r: Results, machine: dict[str, str]) -> None:
    """Replace this configuration's block (or add it), keep the others and any text outside the blocks."""
    text = path.read_text(encoding="utf-8") if path.exists() else INTRO
    blocks = {m["key"]: m[0] for m in BLOCK.finditer(text)}
    blocks[r.key] = markdown_block(r, machine)
    head = BLOCK.sub("", text).rstrip("\n") + "\n\n"

    def order(key: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"=(\d+)", key))

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + "\n".join(blocks[k] for k in sorted(blocks, key=order)), encoding="utf-8")
