"""The service images: multi-stage, slim, non-root, a liveness healthcheck, pinned installs, and each one
holding only its own service and the shared packages that service depends on."""

import json
import re
import shlex
import tomllib
from dataclasses import dataclass, field

import pytest

from tests.deploy.support import PORTS, ROOT, SERVICES, run_cli

SHARED = {"throughline-events": "shared/events", "throughline-platform": "shared/platform",
          "throughline-messaging": "shared/messaging"}


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def parse_dockerfile(service: str) -> list[Stage]:
    text = (ROOT / "services" / service / "Dockerfile").read_text()
    logical = re.sub(r"\\\n", " ", text)  # join continuation lines
    stages: list[Stage] = []
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = args.split()
            stages.append(Stage(parts[0], parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else None))
        elif stages:
            stages[-1].instructions.append((keyword, args.strip()))
    return stages


def shared_packages_of(service: str) -> set[str]:
    """The shared/ folders a service needs: its throughline-* dependencies, followed transitively."""
    needed: set[str] = set()
    queue = [ROOT / "services" / service / "pyproject.toml"]
    while queue:
        project = tomllib.loads(queue.pop().read_text())["project"]
        for requirement in project.get("dependencies", []):
            name = re.split(r"[<>=\[ ;]", requirement, maxsplit=1)[0]
            if name in SHARED and SHARED[name] not in needed:
                needed.add(SHARED[name])
                queue.append(ROOT / SHARED[name] / "pyproject.toml")
    return needed


@pytest.mark.parametrize("service", SERVICES)
def test_image_holds_only_its_service_and_the_shared_packages_it_uses(service: str) -> None:
    stages = parse_dockerfile(service)
    copied: set[str] = set()
    for stage in stages:
        for args in stage.all("COPY"):
            parts = shlex.split(args)
            if any(p.startswith("--from") for p in parts):
                continue
            sources = [p for p in parts[:-1] if not p.startswith("--")]
            copied.update(s.rstrip("/") for s in sources)
    assert "shared/events" in shared_packages_of(service), "every service speaks the event contract"
    expected = {"requirements/constraints.txt", f"services/{service}"} | shared_packages_of(service)
    assert copied == expected, f"{service} image copies {sorted(copied)}, expected {sorted(expected)}"


@pytest.mark.parametrize("service", SERVICES)
def test_image_is_multi_stage_slim_pinned_and_non_root(service: str) -> None:
    stages = parse_dockerfile(service)
    assert len(stages) >= 2, "a build stage for the wheels and a runtime stage"
    text = (ROOT / "services" / service / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)
    assert base and base.group(1) == "python:3.11-slim", "images build on python:3.11-slim"
    assert all(s.base in ("${PYTHON_IMAGE}", "python:3.11-slim") for s in stages)
    build, runtime = stages[0], stages[-1]
    assert any("pip wheel" in r and "-c requirements/constraints.txt" in r for r in build.all("RUN"))
    assert any("--no-index" in r and "-c " in r for r in runtime.all("RUN")), "runtime installs only the wheels"
    assert not [c for c in runtime.all("COPY") if "--from" not in c], "runtime takes nothing but the built wheels"
    users = runtime.all("USER")
    assert users and users[-1].split(":")[0] not in ("0", "root"), "the runtime user must not be root"


@pytest.mark.parametrize("service", SERVICES)
def test_image_healthcheck_probes_liveness_and_its_command_is_accepted(
        service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = parse_dockerfile(service)[-1]
    healthcheck = runtime.all("HEALTHCHECK")
    assert healthcheck and "/health/live" in healthcheck[0] and "urllib.request" in healthcheck[0]
    assert "curl" not in healthcheck[0] and "wget" not in healthcheck[0], "slim images have neither"
    assert str(PORTS[service]) in healthcheck[0]
    assert runtime.all("EXPOSE") == [str(PORTS[service])]
    command = json.loads(runtime.all("CMD")[-1])
    invocation = run_cli(command, monkeypatch)
    assert invocation.command == "serve" and invocation.port == PORTS[service] and invocation.host == "0.0.0.0"


def test_docker_context_leaves_out_what_no_image_needs() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    for pattern in ("**/.venv", "**/.git", "tests", "devstack", "**/var", "**/*.pem", "**/.env"):
        assert pattern in ignored, f".dockerignore should exclude {pattern}"
