"""Moving an install: `db copy` to another database (and file store), backup and restore."""


class MoveError(Exception):
    """An operator mistake or a refused move, shown as one line."""
