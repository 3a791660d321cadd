"""Property-based bad input over every widget route: never a 5xx, always the JSON envelope."""

from __future__ import annotations

import json
from urllib.parse import quote

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.accounts import start_conversation

FIELDS = ["name", "email", "message", "visitor_token", "since", "disposition"]
odd_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40
) | st.sampled_from(
    ["\x00", "\ud7ff", "😀" * 3, " " * 5, "a" * 300, "<script>", "' OR 1=1 --", "%00"]
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | odd_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3),
    max_leaves=8,
)
field_objects = st.dictionaries(st.sampled_from(FIELDS) | odd_text, json_values, max_size=5)
content_types = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=xyz",
        "text/plain",
        "application/json; charset=latin-1",
        "",
    ]
)


@st.composite
def bodies(draw) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["json", "json-any", "form", "bytes", "multipart"]))
    if kind == "json":
        return orjson.dumps(draw(field_objects)), "application/json"
    if kind == "json-any":
        raw = json.dumps(draw(json_values), ensure_ascii=draw(st.booleans())).encode(
            "utf-8", "surrogatepass"
        )
        return raw, draw(content_types)
    if kind == "form":
        pairs = draw(st.lists(st.tuples(st.sampled_from(FIELDS) | odd_text, odd_text), max_size=5))
        encoded = "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs).encode()
        return encoded, "application/x-www-form-urlencoded"
    if kind == "multipart":
        parts = draw(st.lists(st.tuples(st.sampled_from(FIELDS), odd_text), max_size=4))
        chunks = b"".join(
            b'--xyz\r\nContent-Disposition: form-data; name="'
            + k.encode()
            + b'"\r\n\r\n'
            + v.encode()
            + b"\r\n"
            for k, v in parts
        )
        return chunks + draw(
            st.sampled_from([b"--xyz--\r\n", b"", b"--xy"])
        ), "multipart/form-data; boundary=xyz"
    return draw(st.binary(max_size=200)), draw(content_types)


async def assert_clean(response) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400:
        assert set(response.json()) == {"error"}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    route=st.sampled_from(["conversations", "messages", "config", "files", "other"]),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
    body=bodies(),
    since=st.none() | odd_text,
    idempotency=st.none()
    | st.text(alphabet=st.characters(max_codepoint=255, exclude_categories=["Cs"]), max_size=140),
    segment=odd_text,
)
async def test_widget_routes_never_fail_on_bad_input(
    client, account, route, method, body, since, idempotency, segment
):
    if not hasattr(account, "token"):
        limits = {
            k: 1_000_000
            for k in (
                "config",
                "create_conversation",
                "get_messages",
                "send_message",
                "download_file",
            )
        }
        await client.patch(
            "/api/v1/agent/settings", json={"rate_limits": limits}, headers=account.admin
        )
        account.token = await start_conversation(client, account)
    token = account.token if segment == "" else quote(segment, safe="") or account.token
    path = {
        "conversations": "/api/v1/chat/conversations",
        "messages": f"/api/v1/chat/conversations/{token}/messages",
        "config": "/api/v1/chat/config",
        "files": f"/api/v1/chat/conversations/{account.token}/files/{quote(segment) or 1}/2",
        "other": f"/api/v1/chat/{quote(segment, safe='')}",
    }[route]
    raw, content_type = body
    headers = [(b"X-Api-Key", account.site_key.encode())]
    if content_type:
        headers.append((b"Content-Type", content_type.encode()))
    if idempotency is not None:
        headers.append((b"Idempotency-Key", idempotency.strip().encode("latin-1")))
    params = {"since": since} if since is not None else None
    response = await client.request(method, path, content=raw, headers=headers, params=params)
    await assert_clean(response)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fields=field_objects)
async def test_agent_routes_never_fail_on_bad_json(client, account, fields):
    if not hasattr(account, "cid"):
        await client.patch(
            "/api/v1/agent/settings",
            json={"rate_limits": {"create_conversation": 1000}},
            headers=account.admin,
        )
        await start_conversation(client, account)
        listing = await client.get("/api/v1/agent/conversations", headers=account.admin)
        account.cid = listing.json()["conversations"][0]["id"]
    for method, path in (
        ("POST", f"/api/v1/agent/conversations/{account.cid}/messages"),
        ("PATCH", f"/api/v1/agent/conversations/{account.cid}"),
        ("PATCH", "/api/v1/agent/settings"),
        ("POST", "/api/v1/agent/agents"),
        ("POST", "/api/v1/agent/login"),
    ):
        await assert_clean(await client.request(method, path, json=fields, headers=account.admin))


async def test_nul_characters_never_reach_the_database_as_errors(client, account):
    # PostgreSQL refuses NUL in text: every place text meets a query must cope.
    nul = "a\x00b"
    token = await start_conversation(client, account, name=f"Jane{nul}")
    checks = [
        await client.get("/api/v1/agent/conversations", params={"q": nul}, headers=account.admin),
        await client.get(
            "/api/v1/agent/conversations", params={"cursor": nul}, headers=account.admin
        ),
        await client.post("/api/v1/agent/login", json={"email": nul, "password": nul}),
        await client.get(
            f"/api/v1/chat/conversations/{token}/messages",
            params={"since": nul},
            headers=account.widget,
        ),
        await client.get("/api/v1/chat/config", headers={"X-Api-Key": "fd_\x01"}),
        await client.get("/api/v1/chat/config", params={"site_key": nul}),
        await client.get("/api/v1/agent/me", headers={"Authorization": f"Bearer {nul}"}),
        await client.post(
            f"/api/v1/chat/conversations/{token}/messages",
            json={"message": nul},
            headers=account.widget,
        ),
        await client.patch("/api/v1/agent/settings", json={"greeting": nul}, headers=account.admin),
    ]
    for response in checks:
        await assert_clean(response)
    messages = (
        await client.get(f"/api/v1/chat/conversations/{token}/messages", headers=account.widget)
    ).json()
    assert messages[0]["author"] == "Jane\ufffdb".replace("\ufffdb", "a\ufffdb")
