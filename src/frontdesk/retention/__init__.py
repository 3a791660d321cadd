"""Retention (contract section 9): closed conversations idle past an account's
`retention_days` are erased, hourly inside `serve`, or now with `frontdesk retention run`."""
