"""Platform adapters: each knows one platform's HTML and turns it into plain dataclasses.

An adapter module offers ``PLATFORM``, ``matches(html, url) -> bool`` and
``parse_page(html, url) -> ParsedPage``. A new platform is one new module listed here.
"""

from __future__ import annotations

from types import ModuleType

from archiver.adapters import typepad
from archiver.errors import UnsupportedSite

ADAPTERS: tuple[ModuleType, ...] = (typepad,)


def adapter_named(platform: str) -> ModuleType:
    for adapter in ADAPTERS:
        if adapter.PLATFORM == platform:
            return adapter
    known = ", ".join(a.PLATFORM for a in ADAPTERS)
    raise UnsupportedSite(f"unknown platform {platform!r} (known: {known})")


def adapter_for(html: str, url: str) -> ModuleType:
    """The adapter that recognises this page, or UnsupportedSite."""
    for adapter in ADAPTERS:
        if adapter.matches(html, url):
            return adapter
    known = ", ".join(a.PLATFORM for a in ADAPTERS)
    raise UnsupportedSite(f"{url} is not a thread page of a supported platform ({known})")
