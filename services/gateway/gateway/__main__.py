"""`python -m gateway migrate | serve | relay`."""

import argparse
import os
from pathlib import Path

from throughline_platform.service_cli import add_start_gate_argument, follow_dev_stack


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations")
    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    add_start_gate_argument(serve)
    relay = sub.add_parser("relay", help="publish the gateway's outbox (its users' events) to Kafka")
    relay.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    relay.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8010)))
    add_start_gate_argument(relay)
    args = parser.parse_args(argv)

    from gateway.settings import get_settings

    if args.command == "migrate":
        from throughline_platform.migrations import upgrade

        upgrade(Path(__file__).parent / "migrations", get_settings().database_url)
    elif args.command == "relay":
        import uvicorn

        from gateway.relay import create_relay_app

        relay_app = create_relay_app()
        follow_dev_stack(args)
        uvicorn.run(relay_app, host=args.host, port=args.port, loop="uvloop", http="httptools", log_config=None,
                    access_log=False, timeout_graceful_shutdown=10)
    else:
        import uvicorn

        from gateway.app import create_app

        app = create_app()
        follow_dev_stack(args)
        uvicorn.run(app, host=args.host, port=args.port, loop="uvloop", http="httptools", log_config=None,
                    access_log=False, timeout_graceful_shutdown=10)


if __name__ == "__main__":
    main()
