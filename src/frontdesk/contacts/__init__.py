"""Contacts (contract section 9): list and search, export, and erasure."""
