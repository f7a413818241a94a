"""The benchmark harness cannot rot: its smoke variant runs end to end (its own system, every scenario) and
prints and writes a row for each scenario. Figures are not judged here (timing belongs to `make bench`)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ["1 gateway overhead", "2 deal.won -> project", "3 event pipeline", "4 full path",
             "5 memory and start", "6 read paths", "7 ERP reports", "8 sequence mail", "9 bank import",
             "10 invoice mail", "11 quote accepted -> project", "12 search", "13 timesheets", "14 budget",
             "15 planning board", "16 ledger posting", "17 statements"]


def test_bench_smoke_prints_and_writes_every_scenario(tmp_path: Path) -> None:
    out, figures = tmp_path / "benchmarks.md", tmp_path / "benchmarks.json"
    result = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--out", str(out), "--json", str(figures)],
                            cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert result.returncode == 0, f"bench-smoke failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    table = result.stdout.split("\nscenario ", 1)[-1]  # the final table
    for scenario in SCENARIOS:
        assert f"\n{scenario} " in table, f"no row for {scenario!r} in the printed table:\n{result.stdout[-3000:]}"

    written = json.loads(figures.read_text())
    assert written["mode"] == "smoke"
    assert written["machine"]["nproc"] and written["machine"]["commit"]
    rows = written["rows"]
    assert not [r for r in rows if r["note"].startswith("FAILED")], rows
    for scenario in SCENARIOS:
        measured = [r for r in rows if r["scenario"] == scenario and r["value"] is not None]
        assert measured, f"{scenario}: no figure written"
    pipeline = {r["metric"]: r for r in rows if r["scenario"] == "3 event pipeline"}
    assert pipeline["lost (won deals without a project)"]["value"] == 0  # smoke volumes always arrive in time
    assert pipeline["duplicated (extra projects)"]["value"] == 0

    markdown = out.read_text()
    assert "<!-- bench:results:begin" in markdown and "<!-- bench:results:end -->" in markdown
    assert "Machine:" in markdown and "CPUs" in markdown
    for scenario in SCENARIOS:
        assert f"| {scenario} |" in markdown
