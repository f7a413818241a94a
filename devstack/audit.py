"""Audit the pinned dependencies against PyPI's advisory data (`python -m devstack.audit`, part of `make test`).

PyPI's JSON API lists, for a release, the known vulnerabilities that affect it (the PyPA advisory database and
OSV, the data `pip-audit -s pypi` reads). `pip-audit` asks for each pinned release
(`/pypi/<name>/<version>/json`); the mirror this project is built behind serves only the project document
(`/pypi/<name>/json`), which describes the latest release. So each pin is audited by the first of these that
answers:

1. the release's own document: exact for any pin (public PyPI);
2. the project's document, when the pin is the latest release: exact for that pin.

A pin that neither answers for is reported as not verified: it is behind the latest release and the release
document is not served. It does not fail the run (a new upstream release would otherwise turn CI red on its own),
except with `--strict`; keeping the pins at their latest releases keeps the audit complete. A run that could audit
nothing fails: an unreachable advisory source must not pass for a clean audit.

Known vulnerabilities fail the run unless `requirements/audit-ignore.txt` names them (`<id>  # why`).
"""

import argparse
import re
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)")


@dataclass(frozen=True)
class Pin:
    name: str
    version: str


@dataclass(frozen=True)
class Vulnerability:
    id: str
    aliases: frozenset[str]
    fixed_in: tuple[str, ...]
    link: str

    @classmethod
    def from_pypi(cls, entry: dict[str, Any]) -> "Vulnerability":
        return cls(str(entry["id"]), frozenset(entry.get("aliases") or ()), tuple(entry.get("fixed_in") or ()),
                   str(entry.get("link") or ""))


@dataclass
class Finding:
    pin: Pin
    source: str  # "release", "latest" or "" (not verified)
    latest: str = ""
    vulnerabilities: list[Vulnerability] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return bool(self.source)


def read_pins(lines: Iterable[str]) -> list[Pin]:
    pins = []
    for line in lines:
        match = PIN.match(line.strip())
        if match:
            pins.append(Pin(match.group(1), match.group(2)))
    return pins


def read_ignored(lines: Iterable[str]) -> set[str]:
    return {line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()}


def audit_pin(client: httpx.Client, pin: Pin) -> Finding:
    release = client.get(f"/pypi/{pin.name}/{pin.version}/json")
    if release.status_code == 200:
        return Finding(pin, "release", vulnerabilities=_vulnerabilities(release.json()))
    project = client.get(f"/pypi/{pin.name}/json")
    project.raise_for_status()  # an unknown package or an unreachable source is an error, not a clean audit
    document = project.json()
    latest = str(document["info"]["version"])
    if Version(latest) == Version(pin.version):
        return Finding(pin, "latest", latest, _vulnerabilities(document))
    return Finding(pin, "", latest)


def _vulnerabilities(document: dict[str, Any]) -> list[Vulnerability]:
    return [Vulnerability.from_pypi(entry) for entry in document.get("vulnerabilities") or []]


def report(findings: list[Finding], ignored: set[str], *, strict: bool) -> tuple[list[str], int]:
    """The lines to print and the exit status."""
    lines: list[str] = []
    failed = False
    verified = [f for f in findings if f.verified]
    for finding in findings:
        for vulnerability in finding.vulnerabilities:
            accepted = bool(({vulnerability.id} | vulnerability.aliases) & ignored)
            failed |= not accepted
            state = "ignored (requirements/audit-ignore.txt)" if accepted else "VULNERABLE"
            lines.append(f"{state}: {finding.pin.name}=={finding.pin.version} {vulnerability.id} (fixed in "
                         f"{', '.join(vulnerability.fixed_in) or 'no release'}) {vulnerability.link}".rstrip())
    unverified = [f for f in findings if not f.verified]
    for finding in unverified:
        lines.append(f"not verified: {finding.pin.name}=={finding.pin.version} (latest {finding.latest}; this "
                     "index serves no advisory data for older releases)")
    if not verified:
        lines.append("nothing could be audited: no advisory data was reachable")
        failed = True
    failed |= strict and bool(unverified)
    by_release = sum(f.source == "release" for f in verified)
    lines.append(f"audited {len(verified)} of {len(findings)} pinned releases ({by_release} by their release "
                 f"document, {len(verified) - by_release} as the latest release); "
                 f"{sum(len(f.vulnerabilities) for f in findings)} known vulnerabilities")
    return lines, 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--constraints", type=Path, default=ROOT / "requirements" / "constraints.txt")
    parser.add_argument("--ignore-file", type=Path, default=ROOT / "requirements" / "audit-ignore.txt")
    parser.add_argument("--index", default="https://pypi.org", help="where PyPI's JSON API is served")
    parser.add_argument("--strict", action="store_true", help="also fail on pins that could not be verified")
    args = parser.parse_args(argv)
    pins = read_pins(args.constraints.read_text().splitlines())
    ignored = read_ignored(args.ignore_file.read_text().splitlines()) if args.ignore_file.exists() else set()
    with httpx.Client(base_url=args.index, timeout=30, follow_redirects=True) as client, \
            ThreadPoolExecutor(max_workers=8) as pool:
        try:
            findings = list(pool.map(lambda pin: audit_pin(client, pin), pins))
        except httpx.HTTPError as exc:
            print(f"dependency audit failed: {exc!r}", file=sys.stderr)
            return 1
    lines, status = report(findings, ignored, strict=args.strict)
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
