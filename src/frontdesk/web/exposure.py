"""Whether the demo page is served: the rule the app and `frontdesk serve` both apply."""

from __future__ import annotations

import ipaddress

from frontdesk.config import Settings


def loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def demo_on(settings: Settings, host: str) -> bool:
    """FRONTDESK_DEMO, or unset: only on a loopback bind (the site key is for this box)."""
    return settings.demo if settings.demo is not None else loopback_host(host)
