"""The dependency audit's rules (`devstack/audit.py`): which PyPI document vouches for a pin, and what fails the
run. PyPI itself is what `make test` audits against; here its two documents are served by a fake transport."""

import httpx
import pytest

from devstack.audit import Finding, Pin, Vulnerability, audit_pin, read_ignored, read_pins, report

ADVISORY = {"id": "PYSEC-2099-1", "aliases": ["CVE-2099-0001"], "fixed_in": ["2.0.1"],
            "link": "https://osv.dev/vulnerability/PYSEC-2099-1"}


def _pypi(documents: dict[str, dict[str, object]]) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        document = documents.get(request.url.path)
        return httpx.Response(200, json=document) if document is not None else httpx.Response(404)

    return httpx.Client(base_url="https://pypi.test", transport=httpx.MockTransport(answer))


def test_pins_are_read_with_extras_and_markers_and_nothing_else() -> None:
    lines = ["# pinned", "", "uvicorn[standard]==0.44.0", "tomli==2.3.0 ; python_version < '3.12'",
             "-e shared/events", "httpx>=0.27", "Jinja2==3.1.6  # templates"]
    assert read_pins(lines) == [Pin("uvicorn", "0.44.0"), Pin("tomli", "2.3.0"), Pin("Jinja2", "3.1.6")]


def test_the_release_document_answers_for_any_pin() -> None:
    client = _pypi({"/pypi/foo/1.0/json": {"vulnerabilities": [ADVISORY]}})
    finding = audit_pin(client, Pin("foo", "1.0"))
    assert finding.source == "release"
    assert [v.id for v in finding.vulnerabilities] == ["PYSEC-2099-1"]


def test_the_project_document_answers_only_for_the_latest_release() -> None:
    client = _pypi({"/pypi/foo/json": {"info": {"version": "2.0"}, "vulnerabilities": [ADVISORY]}})
    latest = audit_pin(client, Pin("foo", "2.0.0"))  # the same version, spelt otherwise
    assert (latest.source, len(latest.vulnerabilities)) == ("latest", 1)
    older = audit_pin(client, Pin("foo", "1.9"))
    assert not older.verified
    assert (older.latest, older.vulnerabilities) == ("2.0", [])  # the latest's advisories say nothing of 1.9


def test_a_package_the_index_does_not_know_is_an_error_not_a_clean_audit() -> None:
    with pytest.raises(httpx.HTTPStatusError):
        audit_pin(_pypi({}), Pin("no-such-package", "1.0"))


def _vulnerable() -> Finding:
    return Finding(Pin("foo", "2.0"), "latest", "2.0", [Vulnerability.from_pypi(ADVISORY)])


def test_a_known_vulnerability_fails_the_run_unless_it_is_accepted_by_id_or_alias() -> None:
    lines, status = report([_vulnerable()], set(), strict=False)
    assert status == 1
    assert any(line.startswith("VULNERABLE: foo==2.0 PYSEC-2099-1 (fixed in 2.0.1)") for line in lines)
    ignored = read_ignored(["CVE-2099-0001  # not reachable: we never parse untrusted input with foo", "# note"])
    lines, status = report([_vulnerable()], ignored, strict=False)
    assert status == 0
    assert any(line.startswith("ignored") for line in lines)


def test_unverified_pins_are_reported_and_fail_only_when_strict() -> None:
    findings = [Finding(Pin("foo", "1.0"), "latest", "1.0"), Finding(Pin("bar", "1.0"), "", "1.1")]
    lines, status = report(findings, set(), strict=False)
    assert status == 0
    assert "not verified: bar==1.0 (latest 1.1" in "\n".join(lines)
    assert lines[-1].startswith("audited 1 of 2 pinned releases")
    assert report(findings, set(), strict=True)[1] == 1


def test_a_run_that_audited_nothing_fails() -> None:
    lines, status = report([Finding(Pin("bar", "1.0"), "", "1.1")], set(), strict=False)
    assert status == 1
    assert "nothing could be audited" in "\n".join(lines)
