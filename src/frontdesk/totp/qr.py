"""The enrolment QR code, drawn on the server as SVG by segno (no script, no image library)."""

from __future__ import annotations

import io

import segno


def qr_svg(uri: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(
        buffer,
        kind="svg",
        scale=6,
        border=2,
        xmldecl=False,
        title="QR code for your authenticator app",
    )
    return buffer.getvalue()
