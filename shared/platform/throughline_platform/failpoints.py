"""Named points where a fault-injection test can kill the process (like `kill -9`) on purpose.

Set `THROUGHLINE_FAILPOINTS=consumer.after_db_commit,mail.after_smtp_accept` (comma-separated) to make the process
exit abruptly the first time it reaches one of those points. Unset in production: then `hit` is a set lookup.
"""

import os

_ARMED = frozenset(p.strip() for p in os.environ.get("THROUGHLINE_FAILPOINTS", "").split(",") if p.strip())

EXIT_CODE = 137  # what a shell reports for a process killed by SIGKILL


def hit(name: str) -> None:
    if name in _ARMED:
        os._exit(EXIT_CODE)
