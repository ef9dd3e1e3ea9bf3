"""Which database a command talks to: --url, else DATABASE_URL, else the embedded cluster."""

from __future__ import annotations

import os

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from flavatix_db import cluster

ACCEPTED_SCHEMES = ("postgres", "postgresql", "postgresql+psycopg2")


class DatabaseUrlError(ValueError):
    """A URL that is not a PostgreSQL URL; the message says which and why."""


def resolve(explicit: str | None = None, *, start_embedded: bool = True) -> URL:
    """Return the SQLAlchemy URL to use, starting the embedded cluster if it is the one."""
    if explicit:
        return to_sqlalchemy(explicit, source="--url")
    if os.environ.get("DATABASE_URL"):
        return to_sqlalchemy(os.environ["DATABASE_URL"], source="DATABASE_URL")
    embedded = cluster.embedded()
    raw = embedded.start() if start_embedded else embedded.url()
    return to_sqlalchemy(raw, source="the embedded cluster")


def to_sqlalchemy(raw: str, *, source: str) -> URL:
    """Accept Supabase-style postgres:// and postgresql:// URLs; use the psycopg2 driver."""
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise DatabaseUrlError(f"{source} is not a database URL: {_mask(raw)!r}") from None
    if url.drivername not in ACCEPTED_SCHEMES:
        raise DatabaseUrlError(
            f"{source} must be a postgresql:// URL, not {url.drivername}:// ({_mask(raw)})"
        )
    if not url.database:
        raise DatabaseUrlError(f"{source} names no database: {_mask(raw)}")
    return url.set(drivername="postgresql+psycopg2")


def to_libpq(url: URL) -> str:
    """The same URL in the form psql and psycopg2 accept."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _mask(raw: str) -> str:
    try:
        return make_url(raw).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable>"
