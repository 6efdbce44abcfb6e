"""Contract tier: schemathesis over EVERY operation of the merged OpenAPI document the gateway
serves, on the real embedded system (``crm-embedded`` as ``make run`` starts it), once as an
admin and once as a sales rep, with every check (``--checks all``) and both generation modes
(``--mode all``: schema-valid and schema-violating requests).

It drives schemathesis' own engine (what ``st run`` uses: examples, coverage, fuzzing and
stateful phases) from Python. The run is bounded and reproducible: a fixed seed, derandomized
Hypothesis, a few fuzzed examples per operation on top of the coverage phase (boundary values,
every undeclared method, missing and malformed parts), so CI pays well under a minute per role.
Operations are taken from the document at run time, so endpoints other services add are covered
without touching this file.

Findings that belong to the leads service and are being fixed on the ``leads`` branch are listed
in ``KNOWN_LEADS_FAILURES``: they are still checked and reported at the end of the run (and a
fixed one is reported as such, so its line can go), but do not fail the tier. Everything else
must pass with no exclusion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.engine import Status, events
from schemathesis.engine import from_schema as engine_for

from testkit.embedded import Embedded

SEED = 20261201
MAX_EXAMPLES = 3  # fuzzed cases per operation and role; the coverage phase adds its own

# Phone fields are declared ``format: phone`` (any common notation, parsed by libphonenumber
# with region CN). A client generator needs to know what a phone looks like; so does this one.
schemathesis.openapi.format("phone", st.one_of(
    st.from_regex(r"\A1[3-9][0-9]{9}\Z"),  # CN mobile, national
    st.from_regex(r"\A\+86 1[3-9][0-9] [0-9]{4} [0-9]{4}\Z"),
    st.from_regex(r"\A\+49 30 [0-9]{7,8}\Z"),  # a fixed line elsewhere, E.164 with spaces
))


# Tax registration numbers are unified social credit codes (``format: uscc``): 18 characters
# whose last is a check character over the first 17 (GB 32100), which a pattern cannot say.
def _uscc(first17: str) -> str:
    from accounts.archive.rules import uscc_check_char

    return first17 + uscc_check_char(first17)


schemathesis.openapi.format("uscc", st.from_regex(
    r"\A[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{9}\Z").map(_uscc))

# (method, path) -> failure codes found by this tier in leads-specific code, being fixed on the
# `leads` branch (issue 7: offsets in web-forms/split, percent strings, totals null, phone-or-email,
# show_name, rules the schema does not declare). The lead engineer removes these at merge.
KNOWN_LEADS_FAILURES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v1/leads/stats/funnel"): frozenset({"ST108"}),
    ("GET", "/api/v1/leads/stats/daily-reception"): frozenset({"ST202"}),
    ("GET", "/api/v1/leads/web-forms"): frozenset({"ST108"}),
    ("GET", "/api/v1/leads/{lead_id}/split"): frozenset({"ST108"}),
    ("POST", "/api/v1/leads/{lead_id}/split"): frozenset({"ST108", "ST202"}),
    ("POST", "/api/v1/leads"): frozenset({"ST202"}),
    ("POST", "/api/v1/leads/dedupe-check"): frozenset({"ST202"}),
    ("POST", "/api/v1/leads/import"): frozenset({"ST202"}),
    ("POST", "/api/v1/leads/rotation/{team}/{day}/next"): frozenset({"ST202"}),
    ("POST", "/api/v1/leads/web-forms"): frozenset({"ST202"}),
    ("POST", "/api/v1/leads/web-forms/{form_id}/submissions"): frozenset({"ST202"}),
    ("POST", "/api/v1/leads/{lead_id}/merge"): frozenset({"ST202"}),
    ("POST", "/api/v1/leads/{lead_id}/unmerge"): frozenset({"ST202"}),
    ("POST", "/api/v1/leads/{lead_id}/reassign"): frozenset({"ST202"}),
    ("PUT", "/api/v1/leads/policy"): frozenset({"ST202"}),
    # Values from the organisation's policy (lost/termination reasons, stages, tracking classes)
    # refused with 422 although the document allows any string: also leads', found by this tier.
    ("POST", "/api/v1/leads/{lead_id}/lose"): frozenset({"ST202"}),
    ("POST", "/api/v1/leads/{lead_id}/terminate"): frozenset({"ST202"}),
    ("POST", "/api/v1/leads/{lead_id}/stage"): frozenset({"ST202"}),
    ("PUT", "/api/v1/leads/{lead_id}/tracking"): frozenset({"ST202"}),
}


@dataclass
class Finding:
    operation: str  # "POST /api/v1/leads"
    code: str  # "ST202"
    title: str
    message: str
    sample: str  # curl command reproducing it

    def line(self) -> str:
        return f"{self.operation} {self.code} {self.title}: {self.message[:300]}\n    {self.sample}"


@dataclass
class Run:
    role: str
    operations: set[str] = field(default_factory=set)
    requests: int = 0
    findings: dict[tuple[str, str, str], Finding] = field(default_factory=dict)  # unique
    errors: list[str] = field(default_factory=list)

    def split(self) -> tuple[list[Finding], list[Finding]]:
        """(known leads findings, everything else)."""
        known, other = [], []
        for finding in self.findings.values():
            method, _, path = finding.operation.partition(" ")
            (known if finding.code in KNOWN_LEADS_FAILURES.get((method, path), ()) else other).append(finding)
        return known, other


RUNS: dict[str, Run] = {}


def run_schemathesis(crm: Embedded, role: str, username: str) -> Run:
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        # No state carried between runs (schemathesis would replay earlier failures first).
        "cache": {"enabled": False},
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True,
                       "database": "none"},
        "checks": {"enabled": True},
        "headers": {"Authorization": f"Bearer {crm.token(username)}"},
        "request-timeout": 30,
    })
    schema = schemathesis.openapi.from_url(f"{crm.url}/api/v1/openapi.json", config=config)
    run = RUNS[role] = Run(role)
    for event in engine_for(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            recorder = event.recorder
            run.requests += len(recorder.interactions)
            for case_id, checks in recorder.checks.items():
                case = recorder.cases.get(case_id)
                operation = case.value.operation.label if case is not None else recorder.label
                run.operations.add(operation)
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        key = (operation, failure.code, failure.title)
                        run.findings.setdefault(key, Finding(
                            operation, failure.code, failure.title, failure.message,
                            check.failure_info.code_sample))
        elif isinstance(event, events.NonFatalError | events.FatalError):
            run.errors.append(f"{getattr(event, 'label', '')}: {event.info.format()}")
    return run


@pytest.mark.parametrize(("role", "username"), [("admin", "admin"), ("sales_rep", "rep1")])
def test_every_operation_keeps_its_contract(crm: Embedded, role: str, username: str) -> None:
    run = run_schemathesis(crm, role, username)
    _known, unexpected = run.split()
    assert not run.errors, "\n".join(run.errors)
    assert run.operations, "no operation was tested"
    assert not unexpected, f"{len(unexpected)} contract failures as {role}:\n" + "\n".join(
        f.line() for f in unexpected)


def test_events_emitted_under_fuzzing_match_their_published_schemas(crm: Embedded) -> None:
    """After both runs the outboxes hold whatever the fuzzer made the services emit (merges,
    stage moves, odd Unicode...): each still validates against the schema it names."""
    from contract.test_asyncapi import validate_emitted

    seen = validate_emitted(crm)
    assert len(seen) >= 3, seen


def test_known_failures_name_real_operations(crm: Embedded) -> None:
    """An exclusion for an operation that no longer exists hides nothing and should go."""
    import httpx

    doc = httpx.get(f"{crm.url}/api/v1/openapi.json", timeout=10).json()
    operations = {(method.upper(), path) for path, item in doc["paths"].items() for method in item
                  if method in {"get", "put", "post", "patch", "delete"}}
    assert set(KNOWN_LEADS_FAILURES) <= operations, set(KNOWN_LEADS_FAILURES) - operations
    assert all(path.startswith("/api/v1/leads") for _, path in KNOWN_LEADS_FAILURES)


def summary_lines() -> list[str]:
    """For the terminal summary: the numbers the tier is judged by, and the leads findings."""
    lines = []
    for role, run in sorted(RUNS.items()):
        known, unexpected = run.split()
        lines.append(f"schemathesis as {role}: {len(run.operations)} operations, {run.requests} requests, "
                     f"{len(unexpected)} unique failures (+{len(known)} known leads findings)")
    if not RUNS:
        return lines
    seen: dict[tuple[str, str], set[str]] = {}
    for run in RUNS.values():
        for finding in run.split()[0]:
            method, _, path = finding.operation.partition(" ")
            seen.setdefault((method, path), set()).add(finding.code)
    for (method, path), codes in sorted(KNOWN_LEADS_FAILURES.items()):
        got = seen.get((method, path), set())
        status = f"still failing: {', '.join(sorted(got))}" if got else "not seen this run"
        lines.append(f"  known (leads branch) {method} {path} [{', '.join(sorted(codes))}]: {status}")
    return lines
