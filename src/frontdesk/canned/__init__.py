"""Canned responses: saved answers any agent of the account puts in a reply (section 10)."""
