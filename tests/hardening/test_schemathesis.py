"""Every operation of /openapi.json, fed schemathesis' generated input (valid and invalid) on
a real `frontdesk serve` with an account and an admin's API token: never a 5xx.

Bounded to a few examples per operation and mode so the whole run stays under a minute;
what it finds is fixed at its root, never excluded here.
"""

from __future__ import annotations

import json

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from tests.hardening.conftest import Served

EXAMPLES = 4
# 503s the contract asks for: a transcript with no email set up (section 8).
UNAVAILABLE = {"Email is not configured"}


def contract_unavailable(status: int, text: str) -> bool:
    try:
        error = json.loads(text).get("error")
    except (ValueError, AttributeError):
        return False
    return status == 503 and error in UNAVAILABLE


def test_no_input_makes_a_server_error(served: Served) -> None:
    schema = schemathesis.openapi.from_url(f"{served.base}/openapi.json")
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), "the schema describes every operation validly"
    assert len(operations) > 30  # the chat API, the agent API and the new routes
    strategy = st.one_of(
        *(
            operation.as_strategy(generation_mode=mode)
            for operation in operations
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        )
    )
    failures: list[str] = []

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES * len(operations) * 2,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: schemathesis.Case) -> None:
        request = case.as_transport_kwargs(
            base_url=served.base, headers={**served.bearer, **served.site}
        )
        try:
            # Streamed: an event stream that stays open is right, so only its head is read.
            with session.request(**request, stream=True, timeout=30) as response:
                status = response.status_code
                rotated = case.path.endswith("/site-key") and status == 200
                text = response.text if status >= 500 or rotated else ""
        except requests.RequestException as exc:  # a reset or a timeout is as bad as a 500
            failures.append(f"{case.method} {case.formatted_path}: {exc!r}"[:2000])
            return
        if status >= 500 and not contract_unavailable(status, text):
            failures.append(
                f"{case.method} {case.formatted_path} -> {status}: {text[:500]}\n"
                f"  query={case.query!r} body={case.body!r}"[:2000]
            )
        if rotated:  # later cases reach the chat API with the new key
            served.account["site_key"] = json.loads(text)["site_key"]

    with requests.Session() as session:
        run()
    assert not failures, "\n\n".join(failures)
