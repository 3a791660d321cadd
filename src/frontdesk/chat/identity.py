"""Verified identities (contract section 6): the site's server signs its user's id, the
widget passes both, and we check the signature, so a visitor can't claim to be someone.

user_hash = lowercase hex HMAC-SHA256(key = the account's identity secret, message =
user_id), both UTF-8: what Intercom and Chatwoot ask of a site, so its code carries over.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from frontdesk.errors import AppError
from frontdesk.models import Account

MAX_USER_ID = 255
VERIFICATION_FAILED = "Identity verification failed"
VERIFICATION_REQUIRED = "Identity verification required"


def user_hash(secret: str, user_id: str) -> str:
    # A lone surrogate (from a JSON escape) can't be UTF-8: it can match no site's hash.
    message = user_id.encode(errors="surrogatepass")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verified_user(account: Account, claimed: Any, given_hash: Any) -> str:
    """The `claimed` user_id, trimmed as every text field is (contract section 0), when `given_hash`
    proves it; 403 otherwise (an account with no secret verifies nobody). The hash is of
    the trimmed id: a site's template may pad the attribute, not the id it signs.
    Compared in constant time: the hash is a credential."""
    if not isinstance(claimed, str) or "\x00" in claimed:
        raise AppError(403, VERIFICATION_FAILED)
    user_id = claimed.strip()
    if not 1 <= len(user_id) <= MAX_USER_ID:
        raise AppError(403, VERIFICATION_FAILED)
    if not account.identity_secret or not isinstance(given_hash, str):
        raise AppError(403, VERIFICATION_FAILED)
    expected = user_hash(account.identity_secret, user_id).encode()
    # As bytes: compare_digest refuses str with anything but ASCII, which a hash may hold.
    given = given_hash.strip().lower().encode(errors="replace")
    if not hmac.compare_digest(expected, given):
        raise AppError(403, VERIFICATION_FAILED)
    return user_id


def identity_for_new_conversation(account: Account, fields: dict[str, Any]) -> str | None:
    """The verified user_id a new conversation is for, None for an anonymous visitor (when
    the account allows them); checked after the form's own checks, before the 409."""
    if "user_id" in fields:
        # Present is a claim, null included: section 6's "anything else: 403".
        return verified_user(account, fields["user_id"], fields.get("user_hash"))
    if account.require_identity:
        raise AppError(403, VERIFICATION_REQUIRED)
    return None
