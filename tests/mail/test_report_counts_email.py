"""A reply by email is a message like any other in the counts reports add up."""

from __future__ import annotations

from collections import Counter

from tests.mail.conftest import INBOUND_TOKEN
from tests.mail.test_inbound import ROUTE, mail, reply_address
from tests.working.counts import IN, OUT, assert_counts_match


async def test_an_email_reply_is_counted_once(client, app, account, sink):
    address, cid = await reply_address(client, account, sink)  # the agent asked by email
    auth = {"Authorization": f"Bearer {INBOUND_TOKEN}", "Content-Type": "message/rfc822"}
    message = mail(address)
    for _ in range(2):  # the same Message-ID again: stored once
        response = await client.post(ROUTE, content=message.as_bytes(), headers=auth)
        assert response.status_code == 202
    kept = await assert_counts_match(app.state.runtime.db, account.id)
    # The widget's first message and auto-reply, the agent's question, the emailed answer.
    assert kept[cid] == Counter({IN: 2, OUT: 2, account.admin_id: 1})
    body = (await client.get("/api/v1/agent/reports", headers=account.admin)).json()
    assert body["messages"] == {"inbound": 2, "outbound": 2}
