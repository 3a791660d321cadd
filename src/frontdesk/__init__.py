"""Frontdesk: a self-hosted live-chat server."""

__version__ = "0.1.0"
