"""After the test run: fail if any process the tests started is still alive (a leak would hold ports).

The test session marks its children with THROUGHLINE_STACK=<mark> in their environment (`make test` picks a
mark per run); this looks for the same mark, so neither a `make run` nor another test run on the machine is
mistaken for a leak.
"""

import os
import sys
from pathlib import Path


def leftovers() -> list[str]:
    mark = f"THROUGHLINE_STACK={os.environ.get('THROUGHLINE_STACK', 'pytest')}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if mark not in (proc / "environ").read_bytes().split(b"\0"):
                continue
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found.append(f"{proc.name}: {cmdline.strip()}")
    return found


def main() -> None:
    found = leftovers()
    if found:
        print("processes left behind by the tests:\n" + "\n".join(found), file=sys.stderr)
        sys.exit(1)
    print("no test process left behind")


if __name__ == "__main__":
    main()
