"""Pages and static files: /widget.js, /demo, /inbox."""

from __future__ import annotations

from fastapi import APIRouter

from frontdesk.web import inbox_pages, widget_pages

router = APIRouter(include_in_schema=False)
router.include_router(widget_pages.router)
router.include_router(inbox_pages.router)
