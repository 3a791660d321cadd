"""Password hashing with argon2; only hashes are stored.

Hashing and verifying take ~64 MiB and a few hundred milliseconds of CPU each: on the
event loop, four parallel sign-ins stalled every other request (/healthz) for 0.8 s. They
run on a small pool of threads instead (argon2 releases the GIL while it works), whose
size also bounds how many run at once, server-wide, and so the memory they take.
"""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHING_THREADS = 2

_hasher = PasswordHasher()
_pool = ThreadPoolExecutor(max_workers=HASHING_THREADS, thread_name_prefix="frontdesk-argon2")
# Verifying against this when an email is unknown keeps timing the same as a wrong password.
_DUMMY_HASH = _hasher.hash("frontdesk-timing-equaliser")


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_pool, _hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_pool, _verify, password_hash, password)


def generate_password() -> str:
    return secrets.token_urlsafe(12)
