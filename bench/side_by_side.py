"""One side of a side-by-side A/B run: `python -m bench.side_by_side START LABEL RATE ROUNDS [crm|gateway]`.

Start it at once from two checkouts (A and B, each with its own PYTHONPATH) with the same START (a Unix time
~40 s ahead, enough for both systems to start). Each side starts its own system on free ports, then at
START + k x 25 s wins RATE deals a second for 12 s (directly on crm-api, or through the gateway) and prints every
process's CPU ms per win for that round, with the events per consumer batch. Both systems see the machine in
the same state at the same time, so a per-round ratio B/A is robust to the machine's speed changing from minute
to minute, which one-after-the-other runs are not (their figures moved by 30-50 % between identical runs).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import deque

from bench import scenarios
from bench.load import open_loop
from bench.system import BenchSystem, batch_counts, cpu_snapshot, events_per_batch, process_ids

SECONDS, PERIOD = 12, 25


async def rounds(ctx: scenarios.Ctx, start: float, label: str, rate: float, count: int, via: str) -> None:
    per = int(rate * SECONDS)
    deals = deque(await scenarios.make_deals(ctx, count * per + 50))
    pids = process_ids(ctx.stack)
    async with (ctx.crm(pool=128) if via == "crm" else ctx.gateway(pool=128)) as client:
        for n in range(count):
            await asyncio.sleep(max(0.0, start + n * PERIOD - time.time()))
            todo = [deals.popleft() for _ in range(per)]
            refused: list[int] = []

            async def one(i: int, todo: list[str] = todo, refused: list[int] = refused) -> None:
                reply = await client.post(f"/api/crm/deals/{todo[i]}/win")
                if reply.status != 200:
                    refused.append(reply.status)

            cpu_before, batches_before = cpu_snapshot(pids), batch_counts(ctx.stack)
            achieved = await open_loop(one, rate, per)
            await asyncio.sleep(3)  # the workers finish this round's events
            cpu_after = cpu_snapshot(pids)
            ms = {name.split(" ")[0]: (cpu_after[name] - cpu_before[name]) * 1000 / per for name in cpu_before}
            print(f"{label} round {n} {time.strftime('%H:%M:%S')} {achieved:.0f}/s refused {len(refused)} "
                  f"total {sum(ms.values()):.2f} | " + " ".join(f"{k} {v:.2f}" for k, v in ms.items()) + " | "
                  + events_per_batch(batches_before, batch_counts(ctx.stack)), flush=True)


def main(argv: list[str]) -> None:
    start, label, rate, count = float(argv[0]), argv[1], float(argv[2]), int(argv[3])
    via = argv[4] if len(argv) > 4 else "crm"
    system = BenchSystem(keep=False)
    system.start()
    try:
        token = asyncio.run(scenarios.login(f"http://127.0.0.1:{system.stack.ports.gateway}", system.password))
        ctx = scenarios.Ctx(system.stack, token, scenarios.Volumes.full(), system.var_dir / "bench")
        asyncio.run(rounds(ctx, start, label, rate, count, via))
    finally:
        system.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
