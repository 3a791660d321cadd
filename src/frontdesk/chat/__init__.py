"""The public chat-widget API (contract section 1, /api/v1/chat), authenticated by site key.

request.py reads a request straight from the ASGI scope; gate.py checks site key, origin
and rate limit; handlers.py answers the hot routes, for fast_lane.py and routes.py alike.
"""
