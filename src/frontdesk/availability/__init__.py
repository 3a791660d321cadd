"""Availability (contract section 7): business hours, presence, away replies, assignment."""
