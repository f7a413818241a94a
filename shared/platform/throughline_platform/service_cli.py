"""The command line every service shares: migrate, serve (by roles), replay-dlt."""

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from throughline_platform.parent_watch import stop_when_parent_exits

if TYPE_CHECKING:  # imported for real only by the app factories: `--help` and the start gate stay light
    from fastapi import FastAPI


@dataclass(frozen=True)
class ServiceCommands:
    name: str
    default_port: int
    migrations: Path
    database_url: Callable[[], str]
    create_app: Callable[[frozenset[str]], "FastAPI"]
    replay: Callable[[str, int | None], int] | None = None


def main(spec: ServiceCommands, argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=spec.name)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations")
    serve = sub.add_parser("serve", help="run the service (HTTP plus the background roles asked for)")
    serve.add_argument("--roles", default=os.environ.get("SERVICE_ROLES", "api,relay,consumer,scheduler"),
                       help="comma-separated: api, relay, consumer, scheduler")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", spec.default_port)))
    add_start_gate_argument(serve)
    if spec.replay is not None:
        replay = sub.add_parser("replay-dlt", help="re-publish a dead-letter topic's events to their topic")
        replay.add_argument("--topic", required=True, help="the dead-letter topic, e.g. crm.deal.events.erp.dlt")
        replay.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)

    if args.command == "migrate":
        from throughline_platform.migrations import upgrade

        upgrade(spec.migrations, spec.database_url())
    elif args.command == "serve":
        import uvicorn

        roles = frozenset(r.strip() for r in args.roles.split(",") if r.strip())
        app = spec.create_app(roles)
        follow_dev_stack(args)
        uvicorn.run(app, host=args.host, port=args.port, loop="uvloop", http="httptools",
                    log_config=None, access_log=False, timeout_graceful_shutdown=20, lifespan="on")
    elif args.command == "replay-dlt":
        assert spec.replay is not None
        print(f"replayed {spec.replay(args.topic, args.limit)} events from {args.topic}")


def add_start_gate_argument(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--start-when-exists", type=Path, default=None, metavar="PATH",
                       help="load the application, then wait for PATH to exist before serving (the dev stack "
                            "starts processes while it still migrates their database)")
    serve.add_argument("--started-by", type=int, default=None, metavar="PID",
                       help="our parent, the dev-stack supervisor (which creates PATH): give up waiting for PATH, "
                            "or shut down gracefully while serving, once it has died")


def follow_dev_stack(args: argparse.Namespace) -> None:
    """The dev stack's options, just before serving: wait for the gate file, and from then on stop (SIGTERM, the
    graceful path) once the supervisor has gone, so that a killed supervisor leaves no process behind."""
    if args.start_when_exists is not None:
        wait_for_file(args.start_when_exists, args.started_by or os.getppid())
    if args.started_by is not None:
        stop_when_parent_exits(args.started_by)


def wait_for_file(path: Path, parent: int, timeout: float = 300) -> None:
    """Block until `path` exists. Gives up (exit) when `parent`, the process that was to create it, is no
    longer our parent (it died, even during our imports, and we were re-parented), so that a supervisor killed
    mid-start leaves no process behind; or after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if os.getppid() != parent:
            raise SystemExit(f"the process that was to create {path} has gone")
        if time.monotonic() > deadline:
            raise SystemExit(f"{path} did not appear within {timeout:.0f}s")
        time.sleep(0.02)
