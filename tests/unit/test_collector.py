"""The collector setting every server process applies once it has started (run in a child process, so that
this test process keeps its own): start-up's objects are frozen, and the young generation is collected after
20,000 new objects rather than 700, the older generations as before."""

import json
import subprocess
import sys

PROGRAM = """
import gc, json
before = gc.get_threshold()
from throughline_platform.collector import settle_after_start_up
settle_after_start_up()
print(json.dumps({"before": before, "after": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""


def test_start_up_is_frozen_and_the_young_generation_is_collected_less_often() -> None:
    result = json.loads(subprocess.run([sys.executable, "-c", PROGRAM], check=True, capture_output=True,
                                       text=True).stdout)
    assert result["before"][0] == 700  # Python's default, so the setting below is ours
    assert result["after"] == [20_000, *result["before"][1:]]
    assert result["frozen"] > 1_000
