"""The inbox's second sign-in step: a short-lived signed note that the password was right.

The one-time code form carries it instead of the password, so the password is never put
back into a page. It names the agent, expires after five minutes, and is bound to the
agent's password hash: a password change voids it.
"""

from __future__ import annotations

import hashlib
import hmac
import time

PENDING_SECONDS = 300


def _mac(secret_key: str, agent_id: int, expires: int, password_hash: str) -> str:
    message = f"totp-pending:{agent_id}:{expires}:{password_hash}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def pending_token(secret_key: str, agent_id: int, password_hash: str) -> str:
    expires = int(time.time()) + PENDING_SECONDS
    return f"{agent_id}.{expires}.{_mac(secret_key, agent_id, expires, password_hash)}"


def pending_agent_id(token: object) -> int | None:
    """The agent id the token claims (unchecked: verify with `pending_valid`)."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    head = token.split(".", 1)[0]
    return int(head) if head.isascii() and head.isdigit() and len(head) <= 10 else None


def pending_valid(secret_key: str, token: str, agent_id: int, password_hash: str) -> bool:
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isascii() or not parts[1].isdigit():
        return False
    expires = int(parts[1])
    if expires < time.time():
        return False
    expected = _mac(secret_key, agent_id, expires, password_hash)
    return hmac.compare_digest(parts[2].encode(errors="replace"), expected.encode())
