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

Every finding fails the tier: there is no list of known failures.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.engine import Status, events
from schemathesis.engine import from_schema as engine_for

from httpapi.problems import VALIDATION_PROBLEM
from testkit.embedded import Embedded

SEED = 20261201
# Positive (schema-valid) requests may still be refused by a rule the document cannot express (an
# account the service does not know, "a phone or an email", a transition out of order): 409, or
# 422 naming the rule. What the document *does* declare (types, null, required, unknown fields)
# must never be the reason: ``structural_refusals_are_declared`` fails such a 422.
POSITIVE_EXPECTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
# marshmallow's messages for what an OpenAPI schema states itself.
STRUCTURAL = {"Field may not be null.", "Missing data for required field.", "Unknown field.",
              "Not a valid number.", "Not a valid string.", "Not a valid integer.", "Not a valid boolean.",
              "Not a valid datetime.", "Not a valid date.", "Not a valid UUID.", "Invalid input type.",
              "Not a valid list.", "Invalid value."}


def _messages(errors: object) -> list[str]:
    if isinstance(errors, dict):
        return [m for value in errors.values() for m in _messages(value)]
    if isinstance(errors, list):
        return [m for value in errors for m in _messages(value)]
    return [str(errors)]


@schemathesis.check
def structural_refusals_are_declared(ctx: object, response: schemathesis.Response,
                                     case: schemathesis.Case) -> None:
    """A schema-valid request answered 422 for a reason the document states (type, null, required,
    unknown field) means the document and the validator disagree."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return
    try:
        problem = response.json()
    except ValueError:
        return
    if not isinstance(problem, dict) or problem.get("type") != VALIDATION_PROBLEM:
        return
    structural = sorted(set(_messages(problem.get("errors"))) & STRUCTURAL)
    if structural:
        raise AssertionError(
            f"Schema-valid request refused for what the document declares ({', '.join(structural)}): "
            f"the OpenAPI document and the validator disagree: {response.text[:300]}")

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



RUNS: dict[str, Run] = {}


def run_schemathesis(crm: Embedded, role: str, username: str) -> Run:
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        # No state carried between runs (schemathesis would replay earlier failures first).
        "cache": {"enabled": False},
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True,
                       "database": "none"},
        "checks": {"enabled": True,
                   "positive_data_acceptance": {"expected-statuses": POSITIVE_EXPECTED}},
        "headers": {"Authorization": f"Bearer {crm.token(username)}"},
        "request-timeout": 30,
    })
    schema = schemathesis.openapi.from_url(f"{crm.url}/api/v1/openapi.json", config=config)
    if os.environ.get("CRM_SCHEMATHESIS_PATHS"):  # reproduce one area fast: a path regex
        schema = schema.include(path_regex=os.environ["CRM_SCHEMATHESIS_PATHS"])
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


# Every operation of every service, coverage phase included: minutes, not seconds, on 2 cores.
@pytest.mark.timeout(1200)
@pytest.mark.parametrize(("role", "username"), [("admin", "admin"), ("sales_rep", "rep1")])
def test_every_operation_keeps_its_contract(crm: Embedded, role: str, username: str) -> None:
    run = run_schemathesis(crm, role, username)
    unexpected = list(run.findings.values())
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


def summary_lines() -> list[str]:
    """For the terminal summary: the numbers the tier is judged by, and each finding."""
    lines = []
    for role, run in sorted(RUNS.items()):
        lines.append(f"schemathesis as {role}: {len(run.operations)} operations, {run.requests} requests, "
                     f"{len(run.findings)} unique failures")
        lines.extend(f"  {finding.line()}" for finding in run.findings.values())  # also after a timeout
    return lines
