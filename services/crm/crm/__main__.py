"""`python -m crm migrate | serve --roles ... | replay-dlt --topic ...`"""

from pathlib import Path

from throughline_messaging.commands import standard_service
from throughline_platform.service_cli import main as run_cli

COMMANDS = standard_service("crm", 8001, Path(__file__).parent, settings="crm.settings:get_settings",
                            app_factory="crm.app:create_app")


def main() -> None:
    run_cli(COMMANDS)


if __name__ == "__main__":
    main()
