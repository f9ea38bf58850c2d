"""fetch.origin_map: requests for one origin read from another (a mirror, a local copy, the tests'
stand-ins for disqus.com or hn.algolia.com), the adapters still building the real URLs."""

from __future__ import annotations

import pytest

from archiver.devserver import FixtureServer, Route
from archiver.errors import ConfigError
from archiver.fetch import Fetcher, FetchSettings
from archiver.fetch.settings import map_origin, parse_origin_map


def test_a_mapped_origin_is_fetched_from_its_stand_in() -> None:
    with FixtureServer({"/embed/comments/?f=shop": Route(body=b"<p>threadData</p>")}) as server:
        mapping = f"https://disqus.com={server.url('').rstrip('/')}"
        with Fetcher(FetchSettings(delay=0, origin_map=mapping)) as fetcher:
            result = fetcher.fetch("https://disqus.com/embed/comments/?f=shop")
        asked = [path for _, path, _ in server.requests]
    assert result.status == 200 and result.text == "<p>threadData</p>"
    assert asked == ["/robots.txt", "/embed/comments/?f=shop"]  # its robots.txt too
    # the answer, and every exchange recorded, is named by the real URL it stands for
    assert result.url == "https://disqus.com/embed/comments/?f=shop"


def test_exchanges_through_a_stand_in_are_stored_under_the_real_urls(
    data_dir, cli, monkeypatch
) -> None:
    from archiver.devserver import load_fixture
    from tests.conftest import MOA, MOA_PATH

    _origin, routes = load_fixture(MOA / "one-page")
    with FixtureServer(routes) as server:  # the real page, its links to the real origin intact
        monkeypatch.setenv("ARCHIVER_FETCH_ORIGIN_MAP",
                           f"https://www.moonofalabama.org={server.url('').rstrip('/')}")
        result = cli("archive", "https://www.moonofalabama.org" + MOA_PATH)
    assert result.code == 0, result.err
    listed = cli("threads", "--json")
    assert "https://www.moonofalabama.org" + MOA_PATH in listed.out
    assert "127.0.0.1" not in listed.out


def test_only_the_whole_origin_is_mapped() -> None:
    pairs = parse_origin_map("https://disqus.com=http://127.0.0.1:9,https://a.example/=http://b")
    assert map_origin("https://disqus.com", pairs) == "http://127.0.0.1:9"
    assert map_origin("HTTPS://DISQUS.COM/x?y", pairs) == "http://127.0.0.1:9/x?y"
    assert map_origin("https://disqus.community/x", pairs) == "https://disqus.community/x"
    assert map_origin("https://a.example/p", pairs) == "http://b/p"
    assert map_origin("http://disqus.com/x", pairs) == "http://disqus.com/x"


@pytest.mark.parametrize("bad", ["disqus.com=http://x", "https://a.example", "https://a/p=http://b"])
def test_a_bad_origin_map_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="fetch.origin_map"):
        Fetcher(FetchSettings(origin_map=bad))


def test_the_cli_says_what_is_wrong_with_an_origin_map(cli, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("ARCHIVER_FETCH_ORIGIN_MAP", "disqus.com")
    monkeypatch.setenv("ARCHIVER_DATA_DIR", str(tmp_path))
    result = cli("archive", "https://example.org/2024/01/post.html")
    assert result.code == 2
    assert "ARCHIVER_FETCH_ORIGIN_MAP" in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1
