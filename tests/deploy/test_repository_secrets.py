"""No secret in the repository: private keys, passwords and tokens come only from the environment."""

import re
import subprocess

from tests.deploy.support import ROOT

PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")
# A secret-looking name given a literal value: `DB_PASSWORD=...`, `password: "..."`, `api_key = '...'`.
ASSIGNED_SECRET = re.compile(
    r"""(?i)\b[\w-]*(?:password|passwd|secret|private_key|api_key)[\w-]*["']?\s*[:=]\s*["']?([^\s"',#]+)""")
# user:password@host in a URL.
CREDENTIAL_URL = re.compile(r"\b[a-z+]+://[^/\s:@]+:([^@\s/]+)@")
# Where example credentials are expected: tests, docs, and the dev defaults of the embedded stack.
ALLOWED_PREFIXES = ("tests/", "docs/", "devstack/", "README.md")


def tracked_files() -> list[str]:
    listing = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    return [f for f in listing.splitlines() if (ROOT / f).is_file()]


def looks_like_a_secret(value: str) -> bool:
    """A literal with letters and digits, 8+ characters; not a ${VAR}/<placeholder>, not code."""
    if value.startswith(("${", "<", "$")) or re.search(r"[()\[\]{}]", value):
        return False
    return len(value) >= 8 and bool(re.search(r"[A-Za-z]", value)) and bool(re.search(r"\d", value))


def scan(path: str, text: str) -> list[str]:
    findings = []
    if PRIVATE_KEY.search(text):
        findings.append(f"{path}: a private key block")
    for line_number, line in enumerate(text.splitlines(), 1):
        assigned = ASSIGNED_SECRET.search(line)
        url = CREDENTIAL_URL.search(line)
        if (assigned and looks_like_a_secret(assigned.group(1))) or (
                url and not url.group(1).startswith(("${", "<"))):
            findings.append(f"{path}:{line_number}: {line.strip()[:120]}")
    return findings


def test_the_scanner_finds_what_it_looks_for() -> None:
    assert scan("x.yml", "key: |\n  -----BEGIN PRIVATE KEY-----\n  MC4CAQ...\n")
    assert scan("x.env", "DB_PASSWORD=Sup3rS3cretValue!")
    assert scan("x.py", 'url = "postgresql://crm:hunter2hunter2@db:5432/crm"')
    assert not scan("x.yml", "POSTGRES_PASSWORD: ${CRM_DB_PASSWORD:?set CRM_DB_PASSWORD}")
    assert not scan("x.yml", "CRM_DATABASE_URL: postgresql+asyncpg://crm:<CRM_DB_PASSWORD>@db:5432/crm")
    assert not scan("x.py", "password_hash: Mapped[str] = mapped_column(String(200))")


def test_no_secret_is_committed_outside_tests_and_docs() -> None:
    findings = []
    for path in tracked_files():
        if path.startswith(ALLOWED_PREFIXES):
            continue
        try:
            text = (ROOT / path).read_text()
        except (UnicodeDecodeError, OSError):
            continue
        findings.extend(scan(path, text))
    assert not findings, "possible secrets in the repository:\n" + "\n".join(findings)
