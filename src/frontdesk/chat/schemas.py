"""The chat API's request bodies, declared for /openapi.json.

Those routes parse bodies by hand (one reader for three encodings, the contract's own
error sentences), so FastAPI can't infer these.
"""

from __future__ import annotations

from typing import Any

from frontdesk.conversations.limits import MAX_MESSAGE, MAX_NAME

REQUEST_SCHEMAS: dict[str, Any] = {
    "CreateConversation": {
        "type": "object",
        "required": ["name", "email", "message", "visitor_token"],
        "properties": {
            "name": {"type": "string", "maxLength": MAX_NAME},
            "email": {"type": "string", "format": "email"},
            "message": {"type": "string", "maxLength": MAX_MESSAGE},
            "visitor_token": {"type": "string", "pattern": "^[A-Za-z0-9\\-_.:]{16,128}$"},
        },
    },
    "SendMessage": {
        "type": "object",
        "required": ["message"],
        "properties": {"message": {"type": "string", "maxLength": MAX_MESSAGE}},
    },
}

UPLOAD_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "message": {"type": "string", "maxLength": MAX_MESSAGE},
                    },
                }
            }
        },
    }
}


def body_schema(name: str) -> dict[str, Any]:
    """A route's request body: the named schema, in any of the three encodings read."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                media: {"schema": {"$ref": f"#/components/schemas/{name}"}}
                for media in (
                    "application/json",
                    "application/x-www-form-urlencoded",
                    "multipart/form-data",
                )
            },
        }
    }
