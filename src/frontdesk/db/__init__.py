"""The data layer: engines, transactions, SQLite's inline connection and its upkeep.

Imports nothing from the feature packages: events queued on a transaction are carried as
opaque objects and handed to whatever publisher the app sets (see engines.Database).
"""

from frontdesk.db.bare import BareTransaction, Statement
from frontdesk.db.engines import Database, Publisher, queue_event

__all__ = ["BareTransaction", "Database", "Publisher", "Statement", "queue_event"]
