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
