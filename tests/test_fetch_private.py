"""Issue 11, Found 4: a fetch that starts at a public address is never led into private space.

127.0.0.2 stands for a public host (fetch.public_networks = "127.0.0.2/32"); the "secret" server
on 127.0.0.1 is the private one. What the secret server's own log shows is what reached it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.errors import FetchError
from archiver.fetch import Fetcher, FetchResult, FetchSettings
from archiver.fetch.guard import AddressPolicy, PrivateAddressRefused
from tests.conftest import MOA, MOA_PATH
from tests.faultserver import FaultServer, Reply

HTML = [("Content-Type", "text/html; charset=utf-8")]
SECRET = b"<html><body><p>intranet secret</p></body></html>"
PUBLIC = "127.0.0.2/32"


@pytest.fixture
def secret() -> Iterator[FaultServer]:
    with FaultServer() as srv:  # 127.0.0.1: loopback, private
        srv.route("/secret", Reply(200, SECRET, HTML))
        yield srv


@pytest.fixture
def public() -> Iterator[FaultServer]:
    with FaultServer(host="127.0.0.2") as srv:
        yield srv


def redirect(to: str) -> Reply:
    return Reply(302, b"", [("Location", to)])


def make(**kw: object) -> Fetcher:
    settings = FetchSettings(delay=0, public_networks=PUBLIC, **kw)  # type: ignore[arg-type]
    return Fetcher(settings)


def test_redirect_from_public_to_loopback_is_refused(
    public: FaultServer, secret: FaultServer
) -> None:
    target = secret.url("/secret")
    public.route("/start", redirect(target))
    seen: list[FetchResult] = []
    with make() as fetcher, pytest.raises(PrivateAddressRefused) as info:
        fetcher.fetch(public.url("/start"), record=seen.append)
    assert str(info.value) == (
        f"refused: 127.0.0.2:{public.port} redirected to a private address 127.0.0.1"
        f" (loopback: {target}); archive a private URL by asking for it directly"
    )
    assert info.value.exit_code == 3 and isinstance(info.value, FetchError)
    assert secret.requests() == []  # not even its robots.txt
    assert [r.url for r in seen] == [public.url("/start")]  # the public 302 only


def test_redirect_to_a_name_that_resolves_to_loopback_is_refused(
    public: FaultServer, secret: FaultServer
) -> None:
    target = f"http://localhost:{secret.port}/secret"
    public.route("/start", redirect(target))
    with make() as fetcher, pytest.raises(PrivateAddressRefused) as info:
        fetcher.fetch(public.url("/start"))
    message = str(info.value)
    assert message.startswith(f"refused: 127.0.0.2:{public.port} redirected to a private address")
    assert f"(loopback: {target})" in message
    assert secret.requests() == []


def test_without_the_guard_the_same_redirect_reaches_the_secret(
    public: FaultServer, secret: FaultServer
) -> None:
    """The control: when 127.0.0.2 is not counted as public, the fetch starts in private space
    and may go anywhere there (a local URL asked for directly stays allowed)."""
    public.route("/start", redirect(secret.url("/secret")))
    with Fetcher(FetchSettings(delay=0)) as fetcher:
        result = fetcher.fetch(public.url("/start"))
        assert result.body == SECRET
        assert fetcher.fetch(secret.url("/secret")).body == SECRET
    assert [r.path for r in secret.requests() if r.path != "/robots.txt"] == ["/secret"] * 2


def test_public_to_public_redirects_are_followed(public: FaultServer) -> None:
    public.route("/start", redirect(f"http://127.0.0.2:{public.port}/page"))
    public.route("/page", Reply(200, b"<p>moved</p>", HTML))
    with make() as fetcher:
        result = fetcher.fetch(public.url("/start"))
    assert result.body == b"<p>moved</p>" and result.redirects == [public.url("/start")]


@pytest.mark.parametrize("robots", [False, True], ids=["connect", "robots-read"])
def test_a_dns_answer_that_changes_is_checked_when_connecting(
    public: FaultServer, secret: FaultServer, robots: bool
) -> None:
    """DNS rebinding: rebind.test answers a public address when the redirect is checked and the
    loopback address next (at the connection, or at the robots.txt read before it). The address
    connected to is what counts, and a refusal is never taken for an unreachable robots.txt."""
    answers: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        assert host == "rebind.test"
        answers.append("127.0.0.2" if not answers else "127.0.0.1")
        return [answers[-1]]

    target = f"http://rebind.test:{secret.port}/secret"
    public.route("/start", redirect(target))
    settings = FetchSettings(delay=0, public_networks=PUBLIC, respect_robots=robots)
    with Fetcher(settings, resolver=resolver) as fetcher:
        assert fetcher.private_guard_installed
        with pytest.raises(PrivateAddressRefused, match=r"private address 127\.0\.0\.1"):
            fetcher.fetch(public.url("/start"))
    assert answers == ["127.0.0.2", "127.0.0.1"]  # the redirect's check, then the connect
    assert secret.requests() == []


def test_a_first_host_that_rebinds_to_loopback_is_refused(secret: FaultServer) -> None:
    """Asked for directly, a name that looked public when the fetch began but answers loopback
    when connecting is refused too: a local URL is allowed only when it is local from the start."""
    answers = iter([["127.0.0.2"], ["127.0.0.1"]])
    settings = FetchSettings(delay=0, public_networks=PUBLIC, respect_robots=False)
    with Fetcher(settings, resolver=lambda host, port: next(answers)) as fetcher:
        with pytest.raises(PrivateAddressRefused) as info:
            fetcher.fetch(f"http://rebind.test:{secret.port}/secret")
    assert str(info.value) == (
        f"refused: rebind.test:{secret.port} resolved to a public address, then to a private"
        " address 127.0.0.1 (loopback) when connecting (DNS rebinding?); nothing was fetched"
        " from it"
    )
    assert secret.requests() == []


def test_of_a_public_and_a_private_answer_only_the_public_address_is_connected_to(
    public: FaultServer,
) -> None:
    """mixed.test answers loopback first, then the public address: the connection goes to the
    public one (same port on both), and the private server never sees a request."""
    public.route("/start", redirect(f"http://mixed.test:{public.port}/page"))
    public.route("/page", Reply(200, b"<p>public</p>", HTML))
    with FaultServer(port=public.port) as private:
        private.route("/page", Reply(200, SECRET, HTML))
        settings = FetchSettings(delay=0, public_networks=PUBLIC, respect_robots=False)
        with Fetcher(settings, resolver=lambda host, port: ["127.0.0.1", "127.0.0.2"]) as fetcher:
            assert fetcher.fetch(public.url("/start")).body == b"<p>public</p>"
        assert private.requests() == []
    assert [r.path for r in public.requests()] == ["/start", "/page"]


def test_a_pooled_connection_to_a_private_address_carries_no_public_fetch(
    public: FaultServer, secret: FaultServer
) -> None:
    """A connection opened to a private address for a direct local fetch stays in the pool; a
    later public fetch redirected to the same origin (now resolving public) must not use it."""
    answer = ["127.0.0.1"]
    secret.route("/hello", Reply(200, b"<p>hello</p>", HTML))
    public.route("/start", redirect(f"http://rebind.test:{secret.port}/secret"))
    settings = FetchSettings(delay=0, public_networks=PUBLIC, respect_robots=False)
    with Fetcher(settings, resolver=lambda host, port: list(answer)) as fetcher:
        assert fetcher.fetch(f"http://rebind.test:{secret.port}/hello").status == 200
        answer[0] = "127.0.0.2"
        with pytest.raises(PrivateAddressRefused, match=r"private address 127\.0\.0\.1"):
            fetcher.fetch(public.url("/start"))
    assert [r.path for r in secret.requests()] == ["/hello"]


def test_through_a_proxy_the_target_host_is_checked(
    monkeypatch: pytest.MonkeyPatch, secret: FaultServer
) -> None:
    """With HTTP_PROXY the connection is to the proxy (the user's choice, here on loopback); the
    check applies to each hop's host as resolved here, before anything is sent."""
    start = "http://127.0.0.2:8080/start"
    with FaultServer() as proxy:
        proxy.route(start, redirect(secret.url("/secret")))
        proxy.route("http://127.0.0.2:8080/robots.txt", Reply(404))
        monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with make() as fetcher, pytest.raises(PrivateAddressRefused, match="127.0.0.1"):
            fetcher.fetch(start)
        assert [r.path for r in proxy.requests()] == ["http://127.0.0.2:8080/robots.txt", start]
    assert secret.requests() == []


@pytest.mark.parametrize(
    ("ip", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "not globally routable"),
        ("93.184.216.34", None),
        ("2606:2800:220:1:248:1893:25c8:1946", None),
    ],
)
def test_address_kinds(ip: str, kind: str | None) -> None:
    assert AddressPolicy().kind(ip) == kind


def test_public_networks_setting_is_checked() -> None:
    from archiver.config import load_settings
    from archiver.errors import ConfigError

    with pytest.raises(ConfigError, match="fetch.public_networks: 'nonsense' is not a network"):
        Fetcher(FetchSettings(public_networks="127.0.0.2/32, nonsense"))
    env = {"ARCHIVER_FETCH_PUBLIC_NETWORKS": "127.0.0.2/32 nonsense"}
    with pytest.raises(ConfigError, match="ARCHIVER_FETCH_PUBLIC_NETWORKS: 'nonsense' is not a"):
        load_settings(None, env)
    ok = load_settings(None, {"ARCHIVER_FETCH_PUBLIC_NETWORKS": "127.0.0.2/32, 10.9.0.0/16"})
    assert ok.fetch.public_networks == "127.0.0.2/32, 10.9.0.0/16"


# -- through the CLI, into a real store ------------------------------------------------------


def test_archive_refuses_the_redirect_and_stores_nothing_private(
    data_dir: Path, cli, monkeypatch: pytest.MonkeyPatch, public: FaultServer  # type: ignore[no-untyped-def]
) -> None:
    """The case of the issue: a public host answers 302 to a thread page on 127.0.0.1. Refused,
    exit 3, one line; the private server saw nothing; nothing of it is in the store."""
    with FaultServer() as private:
        private.serve_fixture(MOA / "one-page")
        public.route("/start", redirect(private.url(MOA_PATH)))
        monkeypatch.setenv("ARCHIVER_FETCH_PUBLIC_NETWORKS", PUBLIC)
        result = cli("archive", public.url("/start"))
        assert result.code == 3, result.err
        lines = [line for line in result.err.splitlines() if line.strip()]
        assert lines == [
            f"error: refused: 127.0.0.2:{public.port} redirected to a private address 127.0.0.1"
            f" (loopback: {private.url(MOA_PATH)}); archive a private URL by asking for it"
            " directly"
        ]
        assert private.requests() == []
        with sqlite3.connect(data_dir / "archiver.db") as db:
            urls = [row[0] for row in db.execute("select url from capture")]
            assert [u for u in urls if "127.0.0.1" in u] == []
            assert db.execute("select count(*) from comment").fetchone() == (0,)

        # The control: counted as private (the default for 127.0.0.2), the thread is archived.
        monkeypatch.delenv("ARCHIVER_FETCH_PUBLIC_NETWORKS")
        result = cli("archive", public.url("/start"))
        assert result.code == 0, result.err
        assert len(private.requests(MOA_PATH)) == 1
