"""The account's blocklist (contract section 9): addresses and networks, emails and @domains."""
