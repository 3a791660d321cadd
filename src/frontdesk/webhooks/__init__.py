"""Webhooks (contract section 5): an account's endpoints, and every event delivered to them
signed as Standard Webhooks says, through the outbox (never lost, retried, logged)."""
