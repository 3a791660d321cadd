"""Conversations and their messages: the one place messages are ordered."""
