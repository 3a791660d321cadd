"""The audit log (contract section 9): who changed what, never a secret."""
