"""Every adapter in the registry keeps the contract: it satisfies the Protocol, its example URLs
are claimed by its own URL patterns (and by no other adapter's), and a first request for each
example reads the answer with a callback."""

from __future__ import annotations

import pytest

from archiver.adapters import ADAPTERS, adapter_for_url, adapter_named
from archiver.adapters.contract import ACCEPTED_TYPES, Adapter
from archiver.errors import UnsupportedSite

IDS = [adapter.PLATFORM for adapter in ADAPTERS]


@pytest.mark.parametrize("adapter", ADAPTERS, ids=IDS)
def test_each_adapter_satisfies_the_protocol(adapter: Adapter) -> None:
    assert isinstance(adapter, Adapter)
    assert adapter_named(adapter.PLATFORM) is adapter
    # an adapter shows at least one URL it claims, unless it claims none (generic: markup only)
    assert adapter.EXAMPLES or not adapter.URL_PATTERNS, "an adapter shows a URL it claims"


@pytest.mark.parametrize("adapter", ADAPTERS, ids=IDS)
def test_every_example_is_claimed_by_its_own_patterns(adapter: Adapter) -> None:
    for url in adapter.EXAMPLES:
        assert any(p.match(url) for p in adapter.URL_PATTERNS), url
        assert adapter_for_url(url) is adapter, f"{url} is claimed by another adapter first"
        first = adapter.start(url)
        assert callable(first.then) and first.accept in ACCEPTED_TYPES


def test_names_are_unique_and_unknown_ones_refused() -> None:
    assert len(set(IDS)) == len(IDS)
    with pytest.raises(UnsupportedSite, match="unknown platform 'nope'"):
        adapter_named("nope")
    assert adapter_for_url("http://127.0.0.1:8000/2018/06/post.html") is None  # markup decides
