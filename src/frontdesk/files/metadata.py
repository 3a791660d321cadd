"""What we record about an uploaded file besides its bytes: a display name and a type.

Neither is trusted. The name is only ever shown (never a path); the type decides whether
a browser may render the file inline, so the types we would render are checked against
the file's first bytes.
"""

from __future__ import annotations

import re
import unicodedata

MAX_FILENAME = 255
FALLBACK_FILENAME = "file"
OCTET_STREAM = "application/octet-stream"
# Enough leading bytes to recognise every signature below (WebP needs 12).
HEAD_BYTES = 16

_TOKEN = re.compile(r"^[a-z0-9!#$&^_.+-]{1,127}/[a-z0-9!#$&^_.+-]{1,127}\Z")
_CHARSET = re.compile(r"^[A-Za-z0-9_.:-]{1,40}\Z")
# Non-standard spellings clients really send, read as the type they mean.
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "application/x-pdf": "application/pdf",
}


def _png(head: bytes) -> bool:
    return head.startswith(b"\x89PNG\r\n\x1a\n")


def _jpeg(head: bytes) -> bool:
    return head.startswith(b"\xff\xd8\xff")


def _gif(head: bytes) -> bool:
    return head.startswith((b"GIF87a", b"GIF89a"))


def _webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def _pdf(head: bytes) -> bool:
    return head.startswith(b"%PDF-")


# The binary types a browser renders itself; a declared one must match its signature.
SIGNATURES = {
    "image/png": _png,
    "image/jpeg": _jpeg,
    "image/gif": _gif,
    "image/webp": _webp,
    "application/pdf": _pdf,
}


def essence(content_type: str) -> str:
    """`type/subtype` without parameters, lower-cased."""
    return content_type.split(";", 1)[0].strip().lower()


def recorded_content_type(declared: str, params: dict[str, str], head: bytes) -> str:
    """The type to store for a file declared as `declared` whose first bytes are `head`.

    Unparseable types and signature mismatches become application/octet-stream, which is
    only ever downloaded. A text type keeps a sane charset so it displays correctly.
    """
    media = _ALIASES.get(declared.strip().lower(), declared.strip().lower())
    if not _TOKEN.match(media):
        return OCTET_STREAM
    check = SIGNATURES.get(media)
    if check is not None and not check(head):
        return OCTET_STREAM
    charset = params.get("charset", "").strip()
    if media.startswith("text/") and _CHARSET.match(charset):
        return f"{media}; charset={charset.lower()}"
    return media


def inline_allowed(content_type: str) -> bool:
    """Types a browser shows without running anything: images, PDF, plain text, media."""
    media = essence(content_type)
    return media in SIGNATURES or media == "text/plain" or media.startswith(("audio/", "video/"))


def _strip_controls(text: str) -> str:
    # Cc: control characters; Cf: invisible format characters, including the bidi
    # overrides that make "gpj.exe" display as "exe.jpg".
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)


def display_filename(raw: str | None) -> str:
    """The uploaded name made safe to display: last path segment, no controls, ≤ 255 chars."""
    if not raw:
        return FALLBACK_FILENAME
    name = unicodedata.normalize("NFC", raw)
    # Some clients send a whole path; only its last segment is the file's name.
    name = re.split(r"[/\\]", name)[-1]
    name = _strip_controls(name)
    name = re.sub(r"\s+", " ", name).strip()
    if name in ("", ".", ".."):
        return FALLBACK_FILENAME
    if len(name) > MAX_FILENAME:
        stem, dot, suffix = name.rpartition(".")
        # Keep a short extension: it is what tells a person (and an OS) what the file is.
        if dot and stem and 0 < len(suffix) <= 16:
            name = stem[: MAX_FILENAME - len(suffix) - 1].rstrip() + "." + suffix
        else:
            name = name[:MAX_FILENAME].rstrip()
    return name
