"""Issue 10: one URL normalisation. Property tests (hypothesis) over generated URLs — idempotent,
parses back as its own wire form, other parameters kept in order — and one example per rule."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.urls import normalise_url, request_url

PROPERTY = settings(max_examples=250, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# -- generated URLs ----------------------------------------------------------------------------

SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_~"  # never re-escaped
ODD = SAFE + ".!$'()*+,;=:@%/ äüé€\"<>[]{}|\\^`"
ESCAPES = ["%2f", "%2F", "%7e", "%7E", "%41", "%20", "%25", "%c3%a4", "%2e", "%2E%2E", "%zz", "%"]

scheme = st.sampled_from(["http", "https", "HTTP", "Https", "hTtP"])
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
ascii_label = st.tuples(st.sampled_from(ALNUM), st.text(ALNUM + "-", max_size=8),
                        st.sampled_from(ALNUM)).map("".join)
idn_label = st.sampled_from(["bücher", "BÜCHER", "café", "пример", "例え", "faß", "xn--bcher-kva"])
name_host = st.lists(st.one_of(ascii_label, idn_label), min_size=1, max_size=3).map(
    lambda labels: ".".join([*labels, "example"])
)
ip_host = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
host = st.one_of(name_host, ip_host, st.just("[::1]"))
port = st.one_of(st.none(), st.just("80"), st.just("443"), st.integers(1, 65535).map(str))
segment = st.lists(st.one_of(st.text(ODD, max_size=6), st.sampled_from(ESCAPES + [".", ".."])),
                   max_size=3).map("".join)
path = st.one_of(st.just(""), st.lists(segment, max_size=4).map(lambda s: "/" + "/".join(s)))

TRACKING = ["utm_source", "utm_medium", "UTM_Campaign", "utm_content", "fbclid", "gclid",
            "mc_cid", "mc_eid", "_ga", "yclid", "igshid", "msclkid", "utm%5Fterm"]
typepad_id = st.binary(min_size=16, max_size=16).map(lambda b: "6a" + b.hex())
dropped = st.one_of(
    st.tuples(st.sampled_from(TRACKING), st.text(SAFE, max_size=8)),
    st.tuples(st.just("cid"), typepad_id),
    st.tuples(st.sampled_from(["replytocom", "showComment"]), st.integers(0, 10**13).map(str)),
)
DROPPED_NAMES = {"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid",
                 "_ga", "_gl", "replytocom", "showcomment", "cid", "x"}
kept_name = st.one_of(
    st.sampled_from(["page", "cpage", "t", "start", "p", "q", "id", "cid"]),
    st.text(SAFE, min_size=1, max_size=6).filter(
        lambda n: not n.lower().startswith("utm_") and n.lower() not in DROPPED_NAMES),
)
kept_value = st.text(SAFE, max_size=8)


@st.composite
def kept_param(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(kept_name)
    value = draw(kept_value)
    if name == "cid":  # a cid that is no TypePad asset id (a category, a forum) is kept
        value = draw(st.integers(0, 10**6).map(str))
    return name, value


@st.composite
def urls(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    """A URL and the query parameters normalisation must keep, in order."""
    params = draw(st.lists(st.one_of(
        kept_param().map(lambda p: (True, p)), dropped.map(lambda p: (False, p)),
        st.text(ODD, max_size=8).map(lambda v: (None, ("x", v))),  # odd value, changed
    ), max_size=6))
    pieces = [f"{name}={value}" for _, (name, value) in params]
    if draw(st.booleans()):
        pieces.insert(draw(st.integers(0, len(pieces))), "")  # a&&b
    query = "&".join(pieces)
    url = f"{draw(scheme)}://{draw(host)}"
    if (p := draw(port)) is not None:
        url += f":{p}"
    url += draw(path)
    if query or draw(st.booleans()):
        url += "?" + query
    if draw(st.booleans()):
        url += "#" + draw(st.text(ODD + "#?", max_size=10))
    kept = [pair for keep, pair in params if keep]
    return url, kept


def _params(url: str) -> list[tuple[str, str]]:
    query = urlsplit(url).query
    return [tuple(p.partition("=")[::2]) for p in query.split("&") if p] if query else []


@PROPERTY
@given(urls())
def test_normalising_twice_changes_nothing(case: tuple[str, list[tuple[str, str]]]) -> None:
    url, _ = case
    once = normalise_url(url)
    assert normalise_url(once) == once
    sent = request_url(url)
    assert request_url(sent) == sent


@PROPERTY
@given(urls())
def test_the_normalised_url_parses_back_with_the_other_parameters_in_order(
    case: tuple[str, list[tuple[str, str]]],
) -> None:
    url, kept = case
    once = normalise_url(url)
    parts = urlsplit(once)
    assert parts.scheme in ("http", "https")
    assert parts.hostname and parts.hostname == parts.hostname.lower() and parts.hostname.isascii()
    assert parts.port != {"http": 80, "https": 443}[parts.scheme]
    assert "#" not in once and not once.endswith("?") and parts.path.startswith("/")
    assert once.isascii() and " " not in once
    assert request_url(once) == once  # already in the form httpx sends
    assert [(n, v) for n, v in _params(once) if n != "x"] == kept


# -- one example per rule ------------------------------------------------------------------------

POST = "http://www.moonofalabama.org/2018/06/post.html"
CID = "6a00d8341c640e53ef9fb282be1172200d"


@pytest.mark.parametrize(("given_url", "expected"), [
    # scheme and host case
    ("HTTP://WWW.MoonOfAlabama.org/2018/06/post.html", POST),
    ("hTTps://Example.ORG/Path/Keeps/Case", "https://example.org/Path/Keeps/Case"),
    # default ports dropped, others kept
    ("http://example.org:80/x", "http://example.org/x"),
    ("https://example.org:443/x", "https://example.org/x"),
    ("http://example.org:443/x", "http://example.org:443/x"),
    ("https://example.org:8443/x", "https://example.org:8443/x"),
    # IDN host to punycode
    ("https://Bücher.de/ä", "https://xn--bcher-kva.de/%C3%A4"),
    # fragment, empty query, empty path
    (POST + "#comment-" + CID, POST),
    (POST + "?", POST),
    (POST + "?#top", POST),
    ("http://example.org", "http://example.org/"),
    ("http://example.org?a=1", "http://example.org/?a=1"),
    # percent-escapes: upper-case hex, unreserved decoded, reserved kept escaped
    ("http://example.org/a%2fb%7e%41?q=%e2%82%ac%26", "http://example.org/a%2Fb~A?q=%E2%82%AC%26"),
    ("http://example.org/x/%2e%2e/y", "http://example.org/x/%2E%2E/y"),
    ("http://example.org/a b", "http://example.org/a%20b"),
    # tracking parameters
    (POST + "?utm_source=x", POST),
    (POST + "?utm_source=feed&utm_medium=rss&UTM_CAMPAIGN=c", POST),
    (POST + "?fbclid=IwAR0&page=2&gclid=x&_ga=1.2&mc_cid=a&mc_eid=b&yclid=1&igshid=z",
     POST + "?page=2"),
    # comment permalinks: TypePad, WordPress, Blogger
    (POST + f"?cid={CID}#comment-{CID}", POST),
    ("https://blog.example/2024/03/post/?replytocom=1234#respond", "https://blog.example/2024/03/post/"),
    ("https://x.blogspot.com/2018/06/post.html?showComment=1528483140000#c7013",
     "https://x.blogspot.com/2018/06/post.html"),
    # parameters that select a page are kept, in order
    ("https://forum.example/viewtopic.php?t=1&start=25", "https://forum.example/viewtopic.php?t=1&start=25"),
    ("https://blog.example/post/?cpage=2", "https://blog.example/post/?cpage=2"),
    ("https://forum.example/index.php?cid=5&page=2", "https://forum.example/index.php?cid=5&page=2"),
    ("https://e.example/p?b=2&a=1&utm_id=9&c=3", "https://e.example/p?b=2&a=1&c=3"),
    ("https://e.example/p?a=1&&b=2&", "https://e.example/p?a=1&b=2"),
])
def test_each_rule(given_url: str, expected: str) -> None:
    assert normalise_url(given_url) == expected


@pytest.mark.parametrize("bad", [
    "", "example.org/x", "/2018/06/post.html", "ftp://example.org/x", "mailto:a@example.org",
    "http:///x", "http://:80/x", "http://example.org:99999/x", "http://example.org/\x00",
    "javascript:alert(1)",
])
def test_anything_but_an_http_url_is_a_value_error(bad: str) -> None:
    with pytest.raises(ValueError, match="not an http|not a valid URL"):
        normalise_url(bad)


def test_the_wire_form_keeps_the_query_but_not_the_fragment() -> None:
    url = f"HTTP://Example.ORG:80/2018/06/post.html?cid={CID}&utm_source=x#comment-{CID}"
    assert request_url(url) == f"http://example.org/2018/06/post.html?cid={CID}&utm_source=x"
    assert request_url("https://Bücher.de") == "https://xn--bcher-kva.de/"
