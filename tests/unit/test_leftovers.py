"""The leak check that runs after the suite must see a marked child process, and only marked ones."""

import os
import subprocess

from devstack.leftovers import leftovers


def test_a_marked_process_is_reported_and_an_unmarked_one_is_not() -> None:
    marked = subprocess.Popen(["sleep", "30"], env={**os.environ, "THROUGHLINE_STACK": os.environ["THROUGHLINE_STACK"]})
    unmarked = subprocess.Popen(["sleep", "31"], env={k: v for k, v in os.environ.items() if k != "THROUGHLINE_STACK"})
    try:
        found = leftovers()
        assert any(line.startswith(f"{marked.pid}:") for line in found)
        assert not any(line.startswith(f"{unmarked.pid}:") for line in found)
    finally:
        for process in (marked, unmarked):
            process.kill()
            process.wait()
    assert not any(line.startswith(f"{marked.pid}:") for line in leftovers())
