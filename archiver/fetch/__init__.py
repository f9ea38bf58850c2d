"""Fetching: a polite HTTP client that returns every exchange as received (FetchResult)."""

from archiver.fetch.client import Fetcher, FetchResult, FetchSettings

__all__ = ["Fetcher", "FetchResult", "FetchSettings"]
