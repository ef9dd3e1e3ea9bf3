"""flavatix-db: the Flavatix database optimization plan as Alembic migrations."""

__version__ = "0.1.0"
