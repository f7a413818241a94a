"""`python -m bench` (make bench) and `python -m bench --smoke` (make bench-smoke).

Starts the whole system in a temporary directory on free ports, runs the scenarios, prints a table and
writes the figures into docs/benchmarks.md (between markers; the hand-written analysis around them stays).

PostgreSQL runs durable (fsync, synchronous_commit, full_page_writes on), as `make run` does: those are the
headline rows. `--durability both` (the default of a full run) then runs everything once more on a system with
them off and prints each such row under its durable twin, labelled "[durability off]", for comparison only.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from bench import bank, budget, invoice_mail, ledger, planning, quotes, scenarios, search, statements, timesheets
from bench.load import LIBRARY
from bench.report import Row, check, machine, markdown, table, write_json, write_markdown
from bench.system import BenchSystem, MemoryWatch, process_ids

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
# In this order: the pipeline scenario leaves the biggest backlog behind when the machine is slow, so it runs
# after the scenarios that need an idle consumer; the reads come last (they read what the others wrote), and the
# ERP reports at volume after them (their seeded books would otherwise weigh on scenario 6's ERP rows), and the
# bank import last (its 20,000 payment events keep the relay and the CRM's consumer busy for a while after it).
SCENARIOS: dict[str, Callable[[scenarios.Ctx], Coroutine[Any, Any, list[Row]]]] = {
    "gateway": scenarios.gateway_overhead,
    "won": scenarios.won_to_project,
    "fullpath": scenarios.full_path,
    "pipeline": scenarios.pipeline_throughput,
    "reads": scenarios.read_paths,
    "erp": scenarios.erp_reports,
    "mail": scenarios.sequence_mail,
    "bank": lambda ctx: bank.bank_import(ctx.stack, ctx.erp_url, ctx.token, ctx.dsn("erp"), ctx.volumes.bank_credits,
                                         ctx.volumes.bank_open_invoices),
    "quotes": lambda ctx: quotes.quote_to_project(ctx.crm_url, ctx.gateway_url, ctx.token, ctx.volumes.quotes),
    "search": search.search_at_volume,
    "invoicemail": lambda ctx: invoice_mail.invoice_mail(ctx.stack, ctx.erp_url, ctx.token, ctx.dsn("erp"),
                                                         ctx.volumes.mailed_invoices),
    "timesheets": timesheets.timesheets,
    "budget": budget.budget_figures,
    "planning": planning.planning_board,
    "ledger": lambda ctx: ledger.ledger_posting(ctx.stack, ctx.erp_url, ctx.token, ctx.dsn("erp"),
                                                ctx.volumes.ledger_invoices),
    "statements": statements.statements,
}
TITLES = {"gateway": "1 gateway overhead", "won": "2 deal.won -> project", "pipeline": "3 event pipeline",
          "fullpath": "4 full path", "memory": "5 memory and start", "reads": "6 read paths",
          "erp": "7 ERP reports", "mail": "8 sequence mail", "bank": bank.SCENARIO,
          "quotes": quotes.SCENARIO, "search": search.SCENARIO, "invoicemail": invoice_mail.SCENARIO,
          "timesheets": timesheets.SCENARIO, "budget": budget.SCENARIO, "planning": planning.SCENARIO,
          "ledger": ledger.SCENARIO, "statements": statements.SCENARIO}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny volumes, a few seconds per scenario")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {', '.join(SCENARIOS)}")
    parser.add_argument("--out", type=Path, default=None,
                        help="markdown file to write (default docs/benchmarks.md; smoke: var/bench/smoke.md)")
    parser.add_argument("--json", type=Path, default=None,
                        help="also write the rows as JSON here (default var/bench/latest.json or smoke.json)")
    parser.add_argument("--profile", default="",
                        help="comma-separated process names (crm-api, gateway, erp-worker, ...) to sample with "
                             "py-spy during the scenarios; collapsed stacks go to var/bench/profile-<name>.txt")
    parser.add_argument("--events", type=int, default=0, help="override the pipeline scenario's event count")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory (logs)")
    parser.add_argument("--durability", choices=("on", "off", "both"), default=None,
                        help="PostgreSQL's durability settings: on (the headline rows, as make run), off, or both "
                             "side by side (default: both for a full run, on for --smoke)")
    args = parser.parse_args(argv)
    durability = args.durability or ("on" if args.smoke else "both")
    volumes = scenarios.Volumes.smoke() if args.smoke else scenarios.Volumes.full()
    if args.events:
        volumes = dataclasses.replace(volumes, pipeline_events=args.events)
    out = args.out or (ROOT / "var" / "bench" / "smoke.md" if args.smoke else ROOT / "docs" / "benchmarks.md")
    json_out = args.json or ROOT / "var" / "bench" / ("smoke.json" if args.smoke else "latest.json")
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}")

    load_at_start = "{:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())
    profile = [p for p in args.profile.split(",") if p]
    if durability == "both":
        rows = side_by_side(run_sync(volumes, chosen, args.keep, profile, durable=True),
                            run_sync(volumes, chosen, args.keep, [], durable=False))
    else:
        rows = run_sync(volumes, chosen, args.keep, profile, durable=durability == "on")
        if durability == "off":
            rows = [labelled_off(row) for row in rows]
    info = machine()
    settings = (f"volumes '{volumes.name}'; load generator: {LIBRARY} in one "
                f"asyncio process; scenarios {', '.join(chosen)}; PostgreSQL durability {DURABILITY[durability]}")
    print()
    print(table(rows), flush=True)
    write_markdown(out, markdown(rows, info, volumes.name, settings, load_at_start))
    write_json(json_out, rows, info, volumes.name)
    print(f"\nwrote {out} and {json_out}", flush=True)
    return 1 if any(r.note.startswith("FAILED") for r in rows) else 0


OFF_LABEL = " [durability off]"
DURABILITY = {
    "on": "on (fsync, synchronous_commit, full_page_writes: as `make run`)",
    "off": "OFF (fsync, synchronous_commit, full_page_writes off: every row is labelled [durability off])",
    "both": "on for the headline rows; each row labelled [durability off] was measured in the same run on a second "
            "system with fsync, synchronous_commit and full_page_writes off, for comparison only (no verdict)",
}


def labelled_off(row: Row) -> Row:
    """A row measured with durability off: labelled, and judged against no target (the targets are for a durable
    system)."""
    return dataclasses.replace(row, metric=row.metric + OFF_LABEL, target="", met=None)


def side_by_side(durable: list[Row], not_durable: list[Row]) -> list[Row]:
    """Each durable row followed by its durability-off twin (same scenario and metric), labelled."""
    twins = {(r.scenario, r.metric): r for r in not_durable}
    merged: list[Row] = []
    for row in durable:
        merged.append(row)
        twin = twins.pop((row.scenario, row.metric), None)
        if twin is not None:
            merged.append(labelled_off(twin))
    return merged + [labelled_off(r) for r in twins.values()]


def run_sync(volumes: scenarios.Volumes, chosen: list[str], keep: bool, profile: list[str],
             durable: bool = True) -> list[Row]:
    system = BenchSystem(keep=keep, durable=durable)
    print(f"starting the system in {system.var_dir} (PostgreSQL durability {'on' if durable else 'OFF'}) ...",
          flush=True)
    system.start()
    rows: list[Row] = []
    try:
        watch = MemoryWatch(process_ids(system.stack))
        time.sleep(1.0)
        watch.sample_idle()
        watch.start()
        token = _run(scenarios.login(f"http://127.0.0.1:{system.stack.ports.gateway}", system.password))
        ctx = scenarios.Ctx(system.stack, token, volumes, system.var_dir / "bench")
        profilers = [start_profiler(name, watch.pids[name]) for name in profile]
        for name in chosen:
            started = time.perf_counter()
            print(f"--- {TITLES[name]} ...", flush=True)
            try:
                got = _run(SCENARIOS[name](ctx))
            except Exception as exc:
                traceback.print_exc()
                got = [Row(TITLES[name], "scenario", None, "", note=f"FAILED: {type(exc).__name__}: {exc}"[:300])]
            for row in got:
                print(f"    {row.metric}: {row.shown_value()} {row.unit} {row.verdict()} {row.note}", flush=True)
            print(f"    ({time.perf_counter() - started:.1f} s)", flush=True)
            rows += got
        watch.stop()
        for profiler in profilers:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=30)
        restart = system.restart_seconds() if volumes.restart else None
        rows += memory_rows(watch, system.start_seconds, restart)
    finally:
        system.stop()
    return rows


def start_profiler(name: str, pid: int) -> subprocess.Popen[bytes]:
    """py-spy sampling one service process (with native frames off: Python-level stacks are what we tune)."""
    out = ROOT / "var" / "bench" / f"profile-{name}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    py_spy = Path(sys.executable).parent / "py-spy"
    return subprocess.Popen([str(py_spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "200",
                             "--output", str(out), "--nonblocking"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def memory_rows(watch: MemoryWatch, start: float, restart: float | None) -> list[Row]:
    s = TITLES["memory"]
    rows = [Row(s, "start: fresh data dir to all ready", start, "s", "<= 10 s", check(start, "<=", 10),
                note="initdb, migrations, 5 processes ready")]
    if restart is not None:
        rows.append(Row(s, "start: restart on existing data", restart, "s", "<= 10 s", check(restart, "<=", 10)))
    for name in watch.pids:
        idle, peak = watch.idle.get(name), watch.peak.get(name)
        ours = "postgres" not in name and "broker" not in name
        rows.append(Row(s, f"RSS {name}: idle / peak under load", peak, "MB", "<= 150 MB" if ours else "",
                        check(peak, "<=", 150) if ours else None,
                        note=f"idle {idle:.0f} MB" if idle is not None else ""))
    return rows


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """One event loop per scenario; uvloop when present (the load generator shares the CPUs it measures)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


if __name__ == "__main__":
    sys.exit(main())
