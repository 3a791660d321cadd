"""What a blocklist entry may be, and its stored form."""

from __future__ import annotations

import ipaddress
import re

from email_validator import EmailNotValidError, validate_email

from frontdesk.errors import AppError
from frontdesk.kit.validation import normalized_email

INVALID_ENTRY = "Invalid blocklist entry"
MAX_NOTE = 1000
# A domain after "@": labels of letters, digits and hyphens, at least one dot.
DOMAIN = re.compile(r"^(?=.{1,253}\Z)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}\Z")


def stored_value(kind: object, value: object) -> tuple[str, str]:
    """(kind, value) as stored: a network in CIDR form, or a lower-cased email or @domain."""
    if not isinstance(kind, str) or not isinstance(value, str):
        raise AppError(422, INVALID_ENTRY)
    text = value.strip()
    if kind == "address":
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError as exc:
            raise AppError(422, INVALID_ENTRY) from exc
        if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
            mapped = network.network_address.ipv4_mapped
            if mapped is not None:  # ::ffff:a.b.c.d/n is an IPv4 network
                network = ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}")
        return kind, str(network)
    if kind == "email":
        lowered = text.lower()
        if lowered.startswith("@"):
            if DOMAIN.match(lowered[1:]):
                return kind, lowered
            # An internationalised domain, as visitors may give it (or its "xn--" form).
            forms = domain_forms(lowered[1:])
            if len(forms) == 1:
                raise AppError(422, INVALID_ENTRY)
            return kind, "@" + forms[0]
        if "@" not in lowered or normalized_email(text) is None:
            raise AppError(422, INVALID_ENTRY)
        return kind, lowered
    raise AppError(422, INVALID_ENTRY)


def domain_forms(domain: str) -> tuple[str, ...]:
    """The domain as written, then in Unicode and as IDNA ASCII ("xn--"), so that an entry
    matches a visitor's address in either spelling; only itself if it is no valid domain."""
    if domain.isascii() and "xn--" not in domain:
        return (domain,)
    try:
        checked = validate_email(
            f"x@{domain}", check_deliverability=False, globally_deliverable=False
        )
    except EmailNotValidError:
        return (domain,)
    unicode, ascii_form = checked.domain.lower(), checked.ascii_domain.lower()
    if "." not in ascii_form:
        return (domain,)
    return tuple(dict.fromkeys((unicode, ascii_form, domain)))


def stored_note(note: object) -> str:
    if note is None:
        return ""
    if not isinstance(note, str) or len(note.strip()) > MAX_NOTE:
        raise AppError(422, INVALID_ENTRY)
    return note.replace("\x00", "\ufffd").strip()
