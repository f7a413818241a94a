"""Stop this process when the dev-stack supervisor that started it has gone.

The dev stack starts every service process in its own session (so that Ctrl-C reaches the supervisor only, which
then stops them in order). A supervisor killed outright (SIGKILL, OOM) cannot stop them, and they would run on
forever holding their ports. So a process started with `--started-by PID` watches for that parent's death and
sends itself SIGTERM: the normal graceful path, in which uvicorn drains requests and the lifespan stops the
consumer and the relay cleanly.

The watch compares `os.getppid()` with the supervisor's pid: an orphan is re-parented (to init or a subreaper),
so its parent pid changes for good, and that cannot be fooled by the supervisor's pid being reused. Unlike
PR_SET_PDEATHSIG it is tied to the supervisor process rather than to the thread that spawned us (a child
outliving its spawning thread is re-parented to another thread of the same process: same parent pid).
Production processes (Kubernetes, Compose) are never given `--started-by`, so this never runs there.
"""

import os
import signal
import threading
import time

# How often the parent is checked: an orphan starts shutting down within this long. One getppid() per check.
CHECK_INTERVAL_SECONDS = 0.5


def stop_when_parent_exits(supervisor: int, interval: float = CHECK_INTERVAL_SECONDS) -> threading.Thread:
    """Start a daemon thread that sends this process SIGTERM once `supervisor` is no longer its parent."""
    watcher = threading.Thread(target=_watch, args=(supervisor, interval), name="parent-watch", daemon=True)
    watcher.start()
    return watcher


def _watch(supervisor: int, interval: float) -> None:
    while os.getppid() == supervisor:
        time.sleep(interval)
    # Once: a second SIGTERM would not hurry uvicorn, and the thread has nothing left to watch.
    os.kill(os.getpid(), signal.SIGTERM)
