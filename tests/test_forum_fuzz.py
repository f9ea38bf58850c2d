"""Generated tests for the forum adapters (issue 14): the real forum pages mutated (the
mutations of tests/test_adapter_fuzz.py: truncated, tags deleted/duplicated/swapped, attributes
dropped, deep nesting, garbage) into every callback of phpBB and XenForo raise nothing but a
parse error, and what they yield is well formed."""

from __future__ import annotations

import os
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.adapters import phpbb, xenforo
from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread
from archiver.adapters.contract import Request, Response
from archiver.errors import ParseError, UnsupportedSite
from tests.conftest import FIXTURES
from tests.test_adapter_fuzz import MUTATIONS

SETTINGS = settings(
    max_examples=int(os.environ.get("ARCHIVER_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
URLS = ("https://www.dostips.com/forum/viewtopic.php?f=3&t=7153&start=15",
        "https://forum.example.org/threads/tide-tables-for-the-north-quay.4242/page-2",
        "https://foren.myoos.de/viewtopic.php?p=453", "", "http://[::1]/x")


@cache
def pages() -> tuple[str, ...]:
    files = [p for folder in ("phpbb", "xenforo") for p in sorted((FIXTURES / folder).rglob("*"))
             if p.suffix in (".html", ".php") and p.stat().st_size < 100_000]
    assert len(files) >= 8
    return tuple(p.read_text(encoding="utf-8") for p in files)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    html = draw(st.sampled_from(pages()))
    for _ in range(draw(st.integers(1, 4))):
        html = draw(st.sampled_from(MUTATIONS))(draw, html)
    return html


@pytest.mark.parametrize("adapter", [phpbb, xenforo], ids=["phpbb", "xenforo"])
@SETTINGS
@given(html=mutated(), url=st.sampled_from(URLS))
def test_mutated_forum_pages_raise_only_parse_errors(adapter: object, html: str,
                                                     url: str) -> None:
    answer = Response(url=url, status=200, headers=(), content=b"", text=html)
    assert isinstance(adapter.matches(html, url), bool)  # type: ignore[attr-defined]
    for callback in (adapter.read_first, adapter.read_page):  # type: ignore[attr-defined]
        try:
            found = list(callback(answer))
        except (ParseError, UnsupportedSite) as exc:
            assert str(exc)
            continue
        for item in found:
            assert isinstance(item, ParsedThread | ParsedComment | PageFacts | Request)
            if isinstance(item, ParsedComment):
                assert item.source_id.isdecimal() and isinstance(item.body_text, str)
                assert item.number is None or isinstance(item.number, int)
            if isinstance(item, Request):
                assert item.url.startswith(("http://", "https://")) or not url
