"""Our own exception types: each carries a message written for the user, and an exit code."""

from __future__ import annotations


class ArchiverError(Exception):
    """Base of every error the CLI reports as one readable line."""

    exit_code = 1


class UsageError(ArchiverError):
    """The user asked for something that cannot be (a URL never archived, a bad option)."""

    exit_code = 2


class ConfigError(ArchiverError):
    """The configuration file or an ARCHIVER_* variable is invalid."""

    exit_code = 2


class FetchError(ArchiverError):
    """A URL could not be fetched: HTTP error status, network failure, limit exceeded."""

    exit_code = 3

    def __init__(self, message: str, *, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.exchange: object | None = None  # a complete exchange kept despite the error


class RobotsDisallowed(FetchError):
    """robots.txt forbids our User-Agent from fetching the URL."""

    exit_code = 4


class UnsupportedSite(ArchiverError):
    """No adapter recognises the page as a platform we know."""

    exit_code = 5


class ParseError(ArchiverError):
    """An adapter recognised the page but could not read it."""

    exit_code = 6


class IncompleteFetch(FetchError):
    """A thread was read in part: a later page could not be fetched (what was read is kept)."""


class IncompleteParse(ParseError):
    """A thread was read in part: a later page could not be parsed (what was read is kept)."""


_DB_HINTS = (
    ("unique constraint", "another archiver may be writing the same thread; run again"),
    ("duplicate key", "another archiver may be writing the same thread; run again"),
    ("database is locked", "another process holds the database; try again in a moment"),
    ("readonly database", "the database file or its folder is not writable: check permissions"),
    ("read-only", "the database file or its folder is not writable: check permissions"),
    ("unable to open database", "check that the database's folder exists and is writable"),
    ("disk i/o error", "check the disk the database is on (space, permissions)"),
    ("database or disk is full", "free some disk space, then run again"),
    ("malformed", "the database file is damaged: restore it from a backup"),
    ("no such table", "the database was not made by this archiver version"),
    ("no such column", "the database was not made by this archiver version"),
    ("connection", "check that the database server is running and reachable"),
)


def describe(exc: BaseException, limit: int = 500) -> str:
    """One line for a user: what happened and, when we know it, what to do. Never SQL, bound
    parameters or a stack: a database error is reduced to the driver's own first line."""
    try:
        from sqlalchemy.exc import DBAPIError, SQLAlchemyError
    except ImportError:  # pragma: no cover - sqlalchemy is a dependency
        DBAPIError = SQLAlchemyError = ()  # type: ignore[assignment,misc]  # noqa: N806
    if isinstance(exc, SQLAlchemyError):
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else None
        text = _first_line(str(cause) if cause is not None else exc.args[0] if exc.args else "")
        # SQLAlchemy's own text starts "(sqlite3.IntegrityError) ..." and goes on with the SQL
        text = text.split("\n[SQL:", 1)[0]
        if text.startswith("(") and ") " in text:
            text = text.split(") ", 1)[1]
        text = text or type(exc).__name__
        lowered = text.lower()
        hint = next((h for key, h in _DB_HINTS if key in lowered), "run with --debug for details")
        return _cut(f"database error: {text} ({hint})", limit)
    if isinstance(exc, ArchiverError):
        return _cut(_first_line(str(exc)) or type(exc).__name__, limit)
    text = _first_line(str(exc))
    return _cut(f"{type(exc).__name__}: {text}" if text else type(exc).__name__, limit)


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
