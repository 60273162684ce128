"""Storage: SQLAlchemy 2 tables of every capability, the database handle and migrations."""

from sostenuto.storage.base import Base
from sostenuto.storage.database import Database, normalise_url

__all__ = ["Base", "Database", "normalise_url"]
