"""`python -m erp migrate | serve --roles ... | replay-dlt --topic ...`"""

from pathlib import Path

from throughline_messaging.commands import standard_service
from throughline_platform.service_cli import main as run_cli

COMMANDS = standard_service("erp", 8002, Path(__file__).parent, settings="erp.settings:get_settings",
                            app_factory="erp.app:create_app")


def main() -> None:
    run_cli(COMMANDS)


if __name__ == "__main__":
    main()
