"""Rows of figures, the machine they came from, the printed table and the generated part of docs/benchmarks.md."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

BEGIN = "<!-- bench:results:begin (written by `make bench`; edit outside these markers) -->"
END = "<!-- bench:results:end -->"


@dataclass
class Row:
    scenario: str
    metric: str
    value: float | None
    unit: str
    target: str = ""
    met: bool | None = None  # None: no target, or not measurable here
    note: str = ""

    def shown_value(self) -> str:
        if self.value is None or (isinstance(self.value, float) and math.isnan(self.value)):
            return "n/a"
        if abs(self.value) >= 100:
            return f"{self.value:,.0f}"
        if abs(self.value) >= 10:
            return f"{self.value:.1f}"
        return f"{self.value:.2f}"

    def verdict(self) -> str:
        return {True: "met", False: "NOT met", None: ""}[self.met]


def check(value: float | None, op: str, threshold: float) -> bool | None:
    if value is None or math.isnan(value):
        return None
    return value <= threshold if op == "<=" else value >= threshold


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "ram": ram,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "load": "{:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg()),
    }


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, check=True).stdout.strip()
        return f"{head}{' (with uncommitted changes)' if dirty else ''}"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def table(rows: list[Row]) -> str:
    header = ("scenario", "metric", "value", "unit", "target", "verdict", "note")
    cells = [header] + [(r.scenario, r.metric, r.shown_value(), r.unit, r.target, r.verdict(), r.note) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header) - 1)]
    lines = []
    for n, c in enumerate(cells):
        lines.append("  ".join(c[i].ljust(widths[i]) for i in range(len(widths))) + "  " + c[-1])
        if n == 0:
            lines.append("  ".join("-" * w for w in widths) + "  ----")
    return "\n".join(lines)


def markdown(rows: list[Row], info: dict[str, str], mode: str, settings: str, load_at_start: str) -> str:
    out = [
        BEGIN,
        f"### Latest run ({mode})",
        "",
        f"- Date: {info['date']}; commit {info['commit']}",
        f"- Machine: {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM, Linux {info['kernel']}, "
        f"Python {info['python']}; PostgreSQL, the broker, the five service processes and the load generator "
        "all share these CPUs.",
        f"- Load average (1/5/15 min) at the start: {load_at_start}; at the end: {info['load']} (anything above "
        f"{info['nproc']} means other work on the machine was competing with the system under test).",
        f"- Settings: {settings}",
        "",
        "| Scenario | Metric | Value | Unit | Target | Verdict | Note |",
        "| --- | --- | ---: | --- | --- | --- | --- |",
    ]
    for r in rows:
        note = r.note.replace("|", "/")
        out.append(f"| {r.scenario} | {r.metric} | {r.shown_value()} | {r.unit} | {r.target} | {r.verdict()} "
                   f"| {note} |")
    out += ["", END]
    return "\n".join(out)


def write_markdown(path: Path, block: str) -> None:
    """Replace the generated block of `path` (keeping the hand-written text around it), or create the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        text = path.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            path.write_text(head + block + tail)
            return
        path.write_text(text.rstrip() + "\n\n" + block + "\n")
        return
    path.write_text("# Benchmarks\n\nWritten by `python -m bench` (`make bench`).\n\n" + block + "\n")


def write_json(path: Path, rows: list[Row], info: dict[str, str], mode: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"mode": mode, "machine": info, "rows": [asdict(r) for r in rows]}, indent=2,
                               default=str))
