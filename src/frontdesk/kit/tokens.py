"""Random secrets and how they are stored and compared."""

from __future__ import annotations

import hashlib
import secrets


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token (43 characters for 32 bytes)."""
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """SHA-256 of a high-entropy token: enough for lookup, never reversible.

    Passwords use argon2 instead; tokens are 256 random bits, so a fast hash is safe
    and keeps every authenticated request cheap.
    """
    return hashlib.sha256(token.encode()).hexdigest()
