"""Agents: the people (and scripts) who answer, and how they authenticate."""
