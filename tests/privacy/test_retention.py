"""Retention (contract section 9): the setting, the sweep, the command, the hourly job."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import select, update

from frontdesk.kit.clock import now_us
from frontdesk.models import Contact, Conversation, OutboxJob
from frontdesk.retention.jobs import KIND
from tests.support.accounts import start_conversation

SETTINGS = "/api/v1/agent/settings"
DAY_US = 86_400 * 1_000_000


def chat(token: str) -> str:
    return f"/api/v1/chat/conversations/{token}/messages"


@pytest.mark.parametrize("value", [1, 30, 3650, None])
async def test_retention_days_setting(client, account, value):
    assert (await client.get(SETTINGS, headers=account.admin)).json()["retention_days"] is None
    response = await client.patch(SETTINGS, json={"retention_days": value}, headers=account.admin)
    assert response.status_code == 200
    assert response.json()["retention_days"] == value
    assert (await client.get(SETTINGS, headers=account.admin)).json()["retention_days"] == value


@pytest.mark.parametrize("value", [0, 3651, -1, 1.5, "30", True, [30]])
async def test_bad_retention_days(client, account, value):
    response = await client.patch(SETTINGS, json={"retention_days": value}, headers=account.admin)
    assert (response.status_code, response.json()) == (422, {"error": "Invalid retention_days"})


async def _conversation(client, account, idle_days: float, status: str, app, **fields) -> str:
    token = await start_conversation(client, account, **fields)
    rt = app.state.runtime
    async with rt.db.write() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.visitor_token == token)
            .values(status=status, last_activity_us=now_us() - int(idle_days * DAY_US))
        )
    return token


async def test_the_sweep_erases_closed_idle_conversations(client, account, app):
    rt = app.state.runtime
    await client.patch(SETTINGS, json={"retention_days": 30}, headers=account.admin)
    old_closed = await _conversation(client, account, 31, "closed", app, email="old@example.com")
    old_open = await _conversation(client, account, 400, "open", app, email="open@example.com")
    young = await _conversation(client, account, 29, "closed", app, email="young@example.com")
    handler = rt.outbox.handlers[KIND]
    from frontdesk.outbox.jobs import ClaimedJob

    job = ClaimedJob(0, account.id, KIND, None, "retention.sweep", "m", "{}", True, 0, "t")
    outcome = await handler(job)
    assert outcome.ok
    assert (await client.get(chat(old_closed), headers=account.widget)).status_code == 404
    assert (await client.get(chat(old_open), headers=account.widget)).status_code == 200
    assert (await client.get(chat(young), headers=account.widget)).status_code == 200
    async with rt.db.read() as session:
        emails = set(await session.scalars(select(Contact.email)))
        # The next sweep is queued an hour on.
        due = list(
            await session.scalars(
                select(OutboxJob.next_attempt_us).where(
                    OutboxJob.kind == KIND,
                    OutboxJob.status == "pending",
                    OutboxJob.account_id == account.id,
                )
            )
        )
    assert "old@example.com" not in emails and "young@example.com" in emails
    assert len(due) == 1 and due[0] > now_us() + 3500 * 1_000_000
    metrics = (await client.get("/metrics")).text
    assert "frontdesk_retention_erased_conversations_total 1.0" in metrics


async def test_serve_schedules_one_sweep_per_account(client, account, other_account, app):
    rt = app.state.runtime
    await client.patch(SETTINGS, json={"retention_days": 7}, headers=account.admin)
    await rt.retention.ensure()
    await rt.retention.ensure()  # twice, as two instances would: still one pending
    async with rt.db.read() as session:
        jobs = list(
            await session.scalars(
                select(OutboxJob.account_id).where(
                    OutboxJob.kind == KIND,
                    OutboxJob.status == "pending",
                    OutboxJob.account_id.in_([account.id, other_account.id]),
                )
            )
        )
    assert jobs == [account.id]


def test_the_command(tmp_path):
    env = {"FRONTDESK_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "frontdesk",
            "account",
            "create",
            "--name",
            "A",
            "--admin-email",
            "a@example.com",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    site_key = json.loads(made.stdout)["site_key"]
    assert site_key
    ran = subprocess.run(
        [sys.executable, "-m", "frontdesk", "retention", "run", "--days", "0"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "Erased 0 closed conversations."
    bad = subprocess.run(
        [sys.executable, "-m", "frontdesk", "retention", "run", "--days", "-1"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and "--days" in bad.stderr


async def test_days_override_every_account(client, account, other_account, app, settings):
    from frontdesk.retention.service import sweep_all

    rt = app.state.runtime
    closed = await _conversation(client, account, 0, "closed", app)
    theirs = await _conversation(client, other_account, 2, "closed", app)
    open_one = await _conversation(client, account, 100, "open", app)

    async def alive(token, acct) -> bool:
        status = (await client.get(chat(token), headers=acct.widget)).status_code
        return status == 200

    # No setting: nothing of theirs by default; N applies whatever the setting.
    await sweep_all(rt.db, rt.files)
    await sweep_all(rt.db, rt.files, days=3)
    assert await alive(closed, account) and await alive(theirs, other_account)
    assert await sweep_all(rt.db, rt.files, days=1) >= 1
    assert not await alive(theirs, other_account) and await alive(closed, account)
    assert await sweep_all(rt.db, rt.files, days=0) >= 1
    assert not await alive(closed, account)
    assert await alive(open_one, account)
