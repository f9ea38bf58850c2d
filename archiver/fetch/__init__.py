"""Fetching: a polite HTTP client that returns every exchange as received (FetchResult)."""

from archiver.fetch.client import Fetcher
from archiver.fetch.result import FetchResult
from archiver.fetch.settings import FetchSettings

__all__ = ["Fetcher", "FetchResult", "FetchSettings"]
