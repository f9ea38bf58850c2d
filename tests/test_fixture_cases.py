"""Issue 12: replay every fixture case (fixtures/<platform>/<case>/expected.json) and compare.

Each case folder is served as it is (archiver.devserver), archived through the public CLI
(`archiver archive URL`) and read back with `archiver export jsonl URL -o -`; every key the
case's expected.json states is compared (format: fixtures/README.md). Per-quirk tests stay in
their own files; this one guards that every case still comes out as its pages say.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from archiver.adapters import ADAPTERS
from archiver.devserver import FixtureServer, load_fixture, serve_fixture
from archiver.errors import IncompleteFetch
from tests.conftest import FIXTURES

# thread keys of expected.json -> how to read them from an exported JSONL thread
THREAD_KEYS = {
    "title": lambda t: t["title"],
    "author": lambda t: t["author"],
    "published_text": lambda t: t["published_text"],
    "published_at": lambda t: t["published_at"],
    "published_precision": lambda t: t.get("published_precision"),
    "date_header": lambda t: t["date_header"],
    "footer_text": lambda t: t["footer_text"],
    "comments_closed": lambda t: t["comments_closed"],
    "pages": lambda t: t["pages"],
    "site_title": lambda t: (t["site"] or {}).get("title"),
    "site_tagline": lambda t: (t["site"] or {}).get("tagline"),
}
# comment keys compared as they are; "body_text_starts" is a prefix (whitespace folded)
COMMENT_KEYS = ("source_id", "number", "author_name", "author_url", "published_text",
                "parent_source_id", "depth", "kind")


def discover() -> list[Any]:
    params = []
    for path in sorted(FIXTURES.glob("*/*/**/expected.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        folder = path.parent
        cases = spec.get("cases") or [spec]
        for case in cases:
            case = {"platform": spec.get("platform"), **case}
            name = f"{folder.relative_to(FIXTURES)}:{case['start']}"
            params.append(pytest.param(folder, case, id=name))
    return params


CASES = discover()


def test_every_case_folder_is_found() -> None:
    # the glob must not silently find nothing (a renamed folder or file would pass vacuously)
    folders = {p.values[0].relative_to(FIXTURES).as_posix() for p in CASES}
    assert {"typepad/moa-2018-06-08-abu-kamal/one-page", "typepad/moa-2018-06-08-abu-kamal/paged",
            "typepad/synthetic-blog", "typepad/synthetic-paged",
            "typepad/variant-standard-template"} <= folders
    # every served folder (one with a routes.json) is a case
    served = {r.parent.relative_to(FIXTURES).as_posix() for r in FIXTURES.glob("*/**/routes.json")}
    assert served == folders
    # and the skip for a platform without an adapter must not be what every typepad case hits
    assert has_adapter("typepad") and not has_adapter("no-such-platform")


def fold(text: str | None) -> str:
    return re.sub(r"\s+", " ", (text or "").replace("\xa0", " ")).strip()


def has_adapter(platform: str) -> bool:
    """Whether the adapters' registry (archiver.adapters.ADAPTERS) lists this platform."""
    return any(adapter.PLATFORM == platform for adapter in ADAPTERS)


def local(url: str | None, base: str) -> str | None:
    """A URL of the served origin as a path (the case states URLs relative to its origin)."""
    return url.removeprefix(base) if url and url.startswith(base) else url


def shows_in_text_and_mirror(thread: dict[str, Any], dump: str, mirror: Path) -> None:
    """The text dump and the HTML mirror show what the JSONL holds: a footer per comment (with
    whom a reply answers), pings apart, an article per comment in the mirror."""
    current = [c for c in thread["comments"] if not c["removed"]]
    comments = [c for c in current if c["kind"] == "comment"]
    footers = re.findall(r"^ *Posted by: (.*)$", dump, flags=re.MULTILINE)
    assert len(footers) == len(comments)
    for footer, comment in zip(footers, comments, strict=True):
        assert footer.startswith(f"{comment['author_name']} | ")
        assert ("| in reply to " in footer) == bool(comment["parent_source_id"])
    pings = len(current) - len(comments)
    assert dump.count("\nPingbacks and trackbacks\n") == (1 if pings else 0)
    page = next(p for p in mirror.glob("*/*.html") if p.name != "index.html")
    html = page.read_text(encoding="utf-8")
    assert html.count('<article class="comment') == len(thread["comments"])
    assert html.count('<p class="reply-to">') == sum(
        1 for c in thread["comments"] if c["parent_source_id"] and c["kind"] == "comment")


def serve_also(folder: Path) -> list[tuple[str, FixtureServer]]:
    """A server of its own for each other origin the case serves (routes.json's "also", e.g.
    https://disqus.com for a blog's Disqus thread): the same routes, the files unchanged (no
    origin rewritten). One stand-in per origin: fetch.origin_map names what a stand-in answers
    by the origin it stands for, so two origins must never share one."""
    spec = json.loads((folder / "routes.json").read_text(encoding="utf-8"))
    _, routes = load_fixture(folder)
    return [(origin, FixtureServer(routes).start()) for origin in spec.get("also", [])]


@pytest.mark.parametrize(("folder", "case"), CASES)
def test_fixture_case(
    folder: Path, case: dict[str, Any], data_dir: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = case.get("platform")
    assert platform, f"{folder}/expected.json names no platform"
    if not has_adapter(platform):
        pytest.skip(f"no adapter for platform {platform!r} yet")
    server = serve_fixture(folder)
    also = serve_also(folder)
    try:
        base = server.base_url
        url = server.url(case["start"])
        monkeypatch.setenv("ARCHIVER_FETCH_ORIGIN_MAP",
                           " ".join(f"{origin}={extra.base_url}" for origin, extra in also))
        if case["start"].startswith(("http://", "https://")):  # a platform's own URL (Reddit):
            url = case["start"]  # its API answers through the "also" stand-ins
        for name, value in case.get("env", {}).items():  # e.g. recorded API credentials
            monkeypatch.setenv(name, value)
        result = cli("archive", url)
        if case.get("complete", True):
            assert result.code == 0, result.err
        else:  # the case holds only part of the topic: the read must say so, never pass whole
            assert result.code == IncompleteFetch.exit_code, (result.code, result.err)
            assert "incomplete read" in result.err, result.err
        exported = cli("export", "jsonl", url, "-o", "-")
        dumped = cli("export", "text", url, "-o", "-")
        mirrored = cli("export", "html", url, "--out", str(data_dir / "mirror"))
    finally:
        server.stop()
        for _, extra in also:
            extra.stop()
    assert dumped.code == 0 and mirrored.code == 0, dumped.err + mirrored.err
    assert exported.code == 0, exported.err
    lines = exported.out.splitlines()
    assert len(lines) == 1, lines
    thread = json.loads(lines[0])
    assert (thread["site"] or {}).get("platform") == platform

    want_thread = dict(case.get("thread", {}))
    got_thread: dict[str, Any] = {}
    if "url_path" in want_thread:
        got_thread["url_path"] = local(thread["url"], base)
    for key in want_thread.keys() - {"url_path"}:
        assert key in THREAD_KEYS, f"unknown thread key {key!r} in {folder}/expected.json"
        got_thread[key] = THREAD_KEYS[key](thread)
    assert got_thread == want_thread

    current = [c for c in thread["comments"] if not c["removed"]]
    if "comment_count" in case:  # comments only: pings are counted apart
        assert thread["comment_count"] == case["comment_count"]
        assert len([c for c in current if c["kind"] == "comment"]) == case["comment_count"]
    if "ping_count" in case:
        assert thread["ping_count"] == case["ping_count"]
        assert len([c for c in current if c["kind"] != "comment"]) == case["ping_count"]
    shows_in_text_and_mirror(thread, dumped.out, data_dir / "mirror")
    if "comments" in case:
        got = thread["comments"]
        assert [c["source_id"] for c in got] == [c["source_id"] for c in case["comments"]]
        for want, have in zip(case["comments"], got, strict=True):
            for key in want.keys() - {"body_text_starts"}:
                assert key in COMMENT_KEYS, f"unknown comment key {key!r} in expected.json"
                value = local(have.get(key), base) if key == "author_url" else have.get(key)
                assert (want["source_id"], key, value) == (want["source_id"], key, want[key])
            if "body_text_starts" in want:
                assert fold(have["body_text"]).startswith(fold(want["body_text_starts"])), (
                    want["source_id"], have["body_text"][:80])
