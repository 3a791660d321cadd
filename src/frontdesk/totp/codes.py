"""TOTP codes and recovery codes, without the database.

Codes: 6 digits, 30-second steps, SHA-1 (what authenticator apps use); a code of the
current or the previous step is accepted, and the caller refuses steps already spent.

Recovery codes are 80 random bits each, stored as SHA-256. A slow hash (argon2) protects
guessable secrets such as passwords; against 2^80 equally likely values a fast hash already
leaves nothing to guess, and a lookup by hash keeps sign-in from running ten argon2 checks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp

STEP_SECONDS = 30
DIGITS = 6
RECOVERY_CODES = 10
ISSUER = "Frontdesk"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def current_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP_SECONDS)


def looks_like_totp(code: str) -> bool:
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The step (current or previous) whose code this is, or None."""
    if not looks_like_totp(code):
        return None
    totp = pyotp.TOTP(secret)
    now = current_step(at)
    for step in (now, now - 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes of 16 base32 characters (80 bits), shown as xxxx-xxxx-xxxx-xxxx."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def recovery_hash(code: str) -> str:
    """The same for any spacing, dashes or case a person types the code with."""
    cleaned = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(cleaned.encode()).hexdigest()
