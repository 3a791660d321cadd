"""Events: what changed, published only after the commit that made it true."""
