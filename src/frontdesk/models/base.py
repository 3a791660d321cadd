"""The declarative base whose metadata Alembic reads."""

from __future__ import annotations

from sqlalchemy import BigInteger, MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so migrations read the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Microsecond timestamps need 64 bits; SQLite's INTEGER is 64-bit already.
Micros = BigInteger


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
