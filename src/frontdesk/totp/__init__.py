"""Two-factor sign-in with TOTP (RFC 6238; contract section 9)."""
