"""Reports (contract section 10): the team's figures over days of the account's time zone."""
