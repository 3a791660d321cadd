"""Upload and download routes for attachments (widget and agent)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
