"""Request-body schemas for routes that read JSON, forms and multipart alike.

Those routes parse bodies by hand (one reader for three encodings, the contract's own
error sentences), so FastAPI can't infer these; they are declared here for /openapi.json.
"""

from __future__ import annotations

from typing import Any

REQUEST_SCHEMAS: dict[str, Any] = {
    "CreateConversation": {
        "type": "object",
        "required": ["name", "email", "message", "visitor_token"],
        "properties": {
            "name": {"type": "string", "maxLength": 255},
            "email": {"type": "string", "format": "email"},
            "message": {"type": "string", "maxLength": 10000},
            "visitor_token": {"type": "string", "pattern": "^[A-Za-z0-9\\-_.:]{16,128}$"},
        },
    },
    "SendMessage": {
        "type": "object",
        "required": ["message"],
        "properties": {"message": {"type": "string", "maxLength": 10000}},
    },
}
