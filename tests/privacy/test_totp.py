"""Two-factor sign-in (contract section 9) with codes from pyotp, as an authenticator makes them."""

from __future__ import annotations

import time

import pyotp
import pytest

from frontdesk.totp import codes
from tests.support.accounts import make_agent

TOTP = "/api/v1/agent/me/totp"
LOGIN = "/api/v1/agent/login"
REQUIRED = {"error": "One-time code required"}
INVALID = {"error": "Invalid one-time code"}


class ShiftedClock:
    """The server's TOTP clock (totp/codes.py), moved on by whole steps where a test would
    otherwise wait up to 30 seconds for the next one. Codes are made on the same clock."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def next_step(self) -> None:
        self.offset += 30

    def fresh_step(self) -> None:
        """Early in a step, so the codes of a test's next few seconds all belong to one."""
        if self.time() % 30 > 25:
            self.offset += 30 - self.time() % 30 + 0.1


clock = ShiftedClock()


@pytest.fixture(autouse=True)
def shifted_clock(monkeypatch: pytest.MonkeyPatch) -> ShiftedClock:
    clock.offset = 0.0
    monkeypatch.setattr(codes, "time", clock)
    return clock


def code_at(secret: str, step_offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.time() + 30 * step_offset)


async def enrol(client, account) -> tuple[str, list[str]]:
    started = await client.post(TOTP, headers=account.admin)
    assert started.status_code == 200
    secret = started.json()["secret"]
    confirmed = await client.post(
        f"{TOTP}/confirm", json={"code": code_at(secret)}, headers=account.admin
    )
    assert confirmed.status_code == 200, confirmed.text
    return secret, confirmed.json()["recovery_codes"]


async def login(client, account, **extra):
    body = {"email": account.admin_email, "password": account.admin_password, **extra}
    return await client.post(LOGIN, json=body)


async def test_enrol_confirm_and_sign_in(client, account):
    clock.fresh_step()
    started = await client.post(TOTP, headers=account.admin)
    assert started.status_code == 200
    body = started.json()
    assert set(body) == {"secret", "otpauth_uri"}
    secret = body["secret"]
    assert len(secret) >= 16 and secret.isupper() and secret.isalnum()
    uri = pyotp.parse_uri(body["otpauth_uri"])
    assert isinstance(uri, pyotp.TOTP)
    assert uri.secret == secret and uri.digits == 6 and uri.interval == 30
    assert uri.name == account.admin_email
    # Still off until confirmed: sign-in needs no code.
    assert (await login(client, account)).status_code == 200
    wrong = await client.post(f"{TOTP}/confirm", json={"code": "000000"}, headers=account.admin)
    if wrong.status_code != 422:  # one in a million: 000000 was the code
        return
    assert wrong.json() == INVALID
    for bad in ({}, {"code": 123456}, {"code": ""}, {"code": "12345"}):
        response = await client.post(f"{TOTP}/confirm", json=bad, headers=account.admin)
        assert (response.status_code, response.json()) == (422, INVALID)
    confirmed = await client.post(
        f"{TOTP}/confirm", json={"code": code_at(secret)}, headers=account.admin
    )
    assert confirmed.status_code == 200
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10 and all(isinstance(c, str) for c in codes)

    missing = await login(client, account)
    assert (missing.status_code, missing.json()) == (401, REQUIRED)
    blank = await login(client, account, otp="  ")
    assert (blank.status_code, blank.json()) == (401, REQUIRED)
    # The step confirm spent can't sign in; the next step's code can, once.
    replayed = await login(client, account, otp=code_at(secret))
    assert (replayed.status_code, replayed.json()) == (401, INVALID)
    wrong = await login(client, account, otp="abcdef")
    assert (wrong.status_code, wrong.json()) == (401, INVALID)
    # A wrong password is still the password's answer, code or not.
    bad_password = await client.post(
        LOGIN, json={"email": account.admin_email, "password": "nope nope nope", "otp": "123456"}
    )
    assert bad_password.json() == {"error": "Invalid email or password"}


async def test_current_previous_replayed_and_future_codes(client, account, app):
    clock.fresh_step()
    secret, _ = await enrol(client, account)
    # Confirm spent the current step; on to the next one.
    clock.next_step()
    future = await login(client, account, otp=code_at(secret, +1))
    assert (future.status_code, future.json()) == (401, INVALID)
    current = await login(client, account, otp=code_at(secret))
    assert current.status_code == 200, current.text
    assert set(current.json()) == {"token", "agent"}
    again = await login(client, account, otp=code_at(secret))
    assert (again.status_code, again.json()) == (401, INVALID)
    # The previous step is older than the one spent: refused too.
    previous = await login(client, account, otp=code_at(secret, -1))
    assert (previous.status_code, previous.json()) == (401, INVALID)


async def test_previous_step_is_accepted_when_unspent(client, app):
    from tests.support.accounts import make_account

    account = await make_account(app)
    started = await client.post(TOTP, headers=account.admin)
    secret = started.json()["secret"]
    # Confirm with the previous step's code (a slow typist): accepted.
    clock.fresh_step()
    confirmed = await client.post(
        f"{TOTP}/confirm", json={"code": code_at(secret, -1)}, headers=account.admin
    )
    assert confirmed.status_code == 200
    # Two steps back is too old.
    old = await login(client, account, otp=code_at(secret, -2))
    assert (old.status_code, old.json()) == (401, INVALID)
    now = await login(client, account, otp=code_at(secret))
    assert now.status_code == 200


async def test_recovery_codes_work_once(client, account):
    clock.fresh_step()
    _, codes = await enrol(client, account)
    used = await login(client, account, otp=codes[0].upper())
    assert used.status_code == 200
    again = await login(client, account, otp=codes[0])
    assert (again.status_code, again.json()) == (401, INVALID)
    # Spaces and dashes are the reader's, not the code's.
    assert (await login(client, account, otp=codes[1].replace("-", " "))).status_code == 200
    assert (await login(client, account, otp="aaaa-bbbb-cccc-dddd")).json() == INVALID


async def test_turning_it_off(client, account):
    clock.fresh_step()
    secret, codes = await enrol(client, account)
    wrong = await client.request("DELETE", TOTP, json={"code": "bad"}, headers=account.admin)
    assert (wrong.status_code, wrong.json()) == (422, INVALID)
    replayed = await client.request(
        "DELETE", TOTP, json={"code": code_at(secret)}, headers=account.admin
    )
    assert (replayed.status_code, replayed.json()) == (422, INVALID)
    off = await client.request("DELETE", TOTP, json={"code": codes[3]}, headers=account.admin)
    assert off.status_code == 204
    assert (await login(client, account)).status_code == 200
    # On again (a new secret), off with a TOTP code this time.
    clock.fresh_step()
    secret, _ = await enrol(client, account)
    clock.next_step()
    off = await client.request(
        "DELETE", TOTP, json={"code": code_at(secret)}, headers=account.admin
    )
    assert off.status_code == 204
    audit = (await client.get("/api/v1/agent/audit", headers=account.admin)).json()["events"]
    actions = [e["action"] for e in audit]
    assert actions[:4] == ["totp.disabled", "totp.enabled", "totp.disabled", "totp.enabled"]
    assert not any(secret in str(e) or codes[3] in str(e) for e in audit)


async def test_admins_see_who_has_it_on(client, account, app):
    member, member_headers = await make_agent(app, account)
    clock.fresh_step()
    started = await client.post(TOTP, headers=member_headers)
    await client.post(
        f"{TOTP}/confirm", json={"code": code_at(started.json()["secret"])}, headers=member_headers
    )
    agents = (await client.get("/api/v1/agent/agents", headers=account.admin)).json()["agents"]
    enabled = {a["id"]: a["totp_enabled"] for a in agents}
    assert enabled == {account.admin_id: False, member.id: True}


async def test_enrolment_states(client, account):
    not_started = await client.post(
        f"{TOTP}/confirm", json={"code": "123456"}, headers=account.admin
    )
    assert not_started.status_code == 409
    off = await client.request("DELETE", TOTP, json={"code": "123456"}, headers=account.admin)
    assert off.status_code == 409
    clock.fresh_step()
    await enrol(client, account)
    assert (await client.post(TOTP, headers=account.admin)).status_code == 409
    assert (await client.post(TOTP)).status_code == 401
