"""Accounts: a business, its site key and its widget settings."""
