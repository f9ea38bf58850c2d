"""Platform adapters: each knows one platform and turns its answers into plain dataclasses.

Every adapter satisfies ``archiver.adapters.contract.Adapter`` (checked by mypy and by
tests/test_adapter_contract.py). A new platform is one new module listed in ``ADAPTERS``.
"""

from __future__ import annotations

from archiver.adapters import (
    blogger,
    discourse,
    disqus,
    generic,
    hackernews,
    invision,
    lemmy,
    lobsters,
    mastodon,
    phpbb,
    reddit,
    smf,
    typepad,
    vbulletin,
    wordpress,
    xenforo,
)
from archiver.adapters.contract import Adapter
from archiver.errors import UnsupportedSite

# the more specific matcher first: Disqus before the blog platforms whose pages embed it (its
# comments are in Disqus); WordPress (any page whose head loads wp-content or names WordPress)
# after the forums, which a WordPress site may host beside its blog; the generic schema.org
# reader last (any page no platform adapter knows)
ADAPTERS: tuple[Adapter, ...] = (
    typepad, hackernews, lobsters, mastodon, lemmy, reddit, disqus, blogger, phpbb, xenforo,
    vbulletin, smf, invision, discourse, wordpress, generic,
)


def _known(adapters: tuple[Adapter, ...]) -> str:
    return ", ".join(a.PLATFORM for a in adapters)


def adapter_named(platform: str, adapters: tuple[Adapter, ...] = ADAPTERS) -> Adapter:
    for adapter in adapters:
        if adapter.PLATFORM == platform:
            return adapter
    raise UnsupportedSite(f"unknown platform {platform!r} (known: {_known(adapters)})")


def adapter_for_url(url: str, adapters: tuple[Adapter, ...] = ADAPTERS) -> Adapter | None:
    """The adapter whose URL patterns claim url (before any fetch), or None."""
    for adapter in adapters:
        if any(pattern.match(url) for pattern in adapter.URL_PATTERNS):
            return adapter
    return None


def adapter_for(html: str, url: str, adapters: tuple[Adapter, ...] = ADAPTERS) -> Adapter:
    """The adapter that recognises this page by its markup, or UnsupportedSite."""
    for adapter in adapters:
        if adapter.matches(html, url):
            return adapter
    raise UnsupportedSite(
        f"{url} is not a thread page of a supported platform ({_known(adapters)})")
