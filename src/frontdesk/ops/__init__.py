"""Operating Frontdesk: health, readiness, metrics."""
