"""Small shared helpers, each module named by its purpose."""
