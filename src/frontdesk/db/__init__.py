"""The data layer: engines, transactions, SQLite's inline connection and its upkeep.

Imports nothing from the feature packages: events queued on a transaction are carried as
opaque objects and handed to whatever publisher the app sets (see engines.Database).
"""

from frontdesk.db.engines import Database, Publisher, SqliteTransaction, queue_event

__all__ = ["Database", "Publisher", "SqliteTransaction", "queue_event"]
