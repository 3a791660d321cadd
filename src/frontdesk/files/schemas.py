"""How file downloads are documented in /openapi.json (both APIs serve them alike)."""

from __future__ import annotations

from typing import Any

from frontdesk.files.downloads import DISPOSITIONS

DOWNLOAD_DOC: dict[str, Any] = {
    "parameters": [
        {
            "name": "disposition",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "enum": list(DISPOSITIONS), "default": "attachment"},
        }
    ],
}
