"""Inputs the schemathesis run found to give a 500, each fixed at its root."""

from __future__ import annotations

import httpx

from tests.hardening.conftest import Served

FAILED = {"error": "Identity verification failed"}


def test_a_user_hash_with_non_ascii_characters_is_a_failed_verification(served: Served) -> None:
    secret = httpx.post(
        f"{served.base}/api/v1/agent/settings/identity-secret", headers=served.bearer
    )
    assert secret.status_code == 200
    # compare_digest raised TypeError on a non-ASCII str: a 500 before.
    for user_id, user_hash in (("u1", "é" * 64), ("\x9c\x84Ìi×", "\x9c\x84Ìi×")):
        listed = httpx.get(
            f"{served.base}/api/v1/chat/conversations",
            params={"user_id": user_id, "user_hash": user_hash},
            headers=served.site,
        )
        assert (listed.status_code, listed.json()) == (403, FAILED)
        created = httpx.post(
            f"{served.base}/api/v1/chat/conversations",
            json={
                "name": "V",
                "email": "v@example.com",
                "message": "hi",
                "visitor_token": "fuzz-visitor-0001",
                "user_id": user_id,
                "user_hash": user_hash,
            },
            headers=served.site,
        )
        assert (created.status_code, created.json()) == (403, FAILED)
    # A user_id that is no UTF-8 at all (a lone surrogate through a JSON escape).
    created = httpx.post(
        f"{served.base}/api/v1/chat/conversations",
        content=b'{"name": "V", "email": "v@example.com", "message": "hi", '
        b'"visitor_token": "fuzz-visitor-0002", "user_id": "\\ud800", "user_hash": "00"}',
        headers={**served.site, "Content-Type": "application/json"},
    )
    assert created.status_code in (400, 403), created.text
