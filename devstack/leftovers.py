"""After the test run: fail if any process the tests started is still alive (a leak would hold ports).

The test session marks its children with THROUGHLINE_STACK=pytest in their environment; this looks for
that mark, so a `make run` in another terminal is never mistaken for a leak.
"""

import os
import sys
from pathlib import Path

MARK = b"THROUGHLINE_STACK=pytest"


def leftovers() -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if MARK not in (proc / "environ").read_bytes().split(b"\0"):
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
