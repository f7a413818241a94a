"""Each image installs only its service's declared dependencies (its pyproject.toml, followed transitively),
while the development virtualenv has everything of every service. So an import that works here can fail
in the image. This test imports each service's app in a fresh interpreter that refuses any module
belonging to an installed distribution outside the service's dependency closure: what the image would
lack fails here first."""

import re
import subprocess
import sys
from importlib import metadata

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from tests.deploy.support import SERVICES

DISTRIBUTIONS = {"crm": "throughline-crm", "erp": "throughline-erp", "gateway": "throughline-gateway"}
# Imported by the service's entry points (python -m <service>, the ASGI app): what the image runs.
ENTRY_MODULES = {"crm": ["crm.__main__", "crm.app"], "erp": ["erp.__main__", "erp.app"],
                 "gateway": ["gateway.__main__", "gateway.app"]}

GUARD = r"""
import importlib, importlib.metadata as md, re, sys
allowed = set(sys.argv[1].split(","))
norm = lambda name: re.sub(r"[-_.]+", "-", name).lower()
owners = md.packages_distributions()

class OnlyDeclaredDependencies:
    def find_spec(self, name, path=None, target=None):
        dists = owners.get(name.split(".")[0])
        if dists and not any(norm(d) in allowed for d in dists):
            raise ModuleNotFoundError(
                f"{name} comes from {sorted(set(dists))}, which is not a declared dependency", name=name)
        return None

sys.meta_path.insert(0, OnlyDeclaredDependencies())
for module in sys.argv[2:]:
    loaded = importlib.import_module(module)
    if hasattr(loaded, "api_routers"):
        loaded.api_routers()  # imported only by an api-role process, but the same image runs it
print("imported", *sys.argv[2:])
"""


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def dependency_closure(distribution: str) -> set[str]:
    """The distribution and everything it requires, extras and environment markers honoured."""
    names: set[str] = set()
    visited: set[tuple[str, frozenset[str]]] = set()
    queue: list[tuple[str, frozenset[str]]] = [(normalise(distribution), frozenset())]
    while queue:
        name, extras = queue.pop()
        if (name, extras) in visited:
            continue
        visited.add((name, extras))
        names.add(name)
        for spec in metadata.requires(name) or []:
            requirement = Requirement(spec)
            if requirement.marker is not None:
                environments = [{**default_environment(), "extra": e} for e in (extras or {""})]
                if not any(requirement.marker.evaluate(env) for env in environments):  # type: ignore[arg-type]
                    continue
            queue.append((normalise(requirement.name), frozenset(requirement.extras)))
    return names


def test_the_closure_follows_extras_and_shared_packages() -> None:
    closure = dependency_closure("throughline-crm")
    assert {"throughline-events", "throughline-messaging", "fastapi", "uvicorn", "uvloop", "asyncpg"} <= closure
    assert "argon2-cffi" not in closure  # the gateway's, not the CRM's


@pytest.mark.parametrize("service", SERVICES)
def test_service_imports_with_only_its_declared_dependencies(service: str) -> None:
    allowed = dependency_closure(DISTRIBUTIONS[service])
    result = subprocess.run([sys.executable, "-c", GUARD, ",".join(sorted(allowed)), *ENTRY_MODULES[service]],
                            capture_output=True, text=True, timeout=120)
    missing = re.findall(r"ModuleNotFoundError: (.*)", result.stderr) or re.findall(r"RuntimeError: (.*)",
                                                                                      result.stderr)
    assert result.returncode == 0, (
        f"the {service} image would fail to start: add the missing distribution to services/{service}/"
        f"pyproject.toml\n{missing}\n{result.stderr[-1500:]}")


def test_the_guard_refuses_an_undeclared_distribution() -> None:
    allowed = dependency_closure("throughline-events")
    result = subprocess.run([sys.executable, "-c", GUARD, ",".join(sorted(allowed)), "fastapi"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "not a declared dependency" in result.stderr
