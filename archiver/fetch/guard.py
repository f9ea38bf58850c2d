"""No way from a public address into private space: a fetch whose first URL is on a public address
connects only to public addresses, checked on the address actually connected to (DNS rebinding)."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpcore
import httpx

from archiver.errors import FetchError
from archiver.fetch.deadline import SocketOption
from archiver.fetch.politeness import host_key

if TYPE_CHECKING:
    from archiver.config import Settings
    from archiver.fetch.settings import FetchSettings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]  # (host, port) -> IP addresses, best first


class PrivateAddressRefused(FetchError):
    """A fetch that began at a public address was led (redirect, DNS answer) to a private one."""


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses getaddrinfo gives for host, in its order, without repeats."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_networks(text: str) -> tuple[Network, ...]:
    """Networks from "127.0.0.2/32, 10.1.0.0/16" (commas or spaces); ValueError if one is bad."""
    networks = []
    for item in text.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"{item!r} is not a network ({exc})") from None
    return tuple(networks)


class AddressPolicy:
    """Which addresses are public: globally routable ones, plus networks the user names as
    public (for tests, or where public sites are reached through private addresses)."""

    def __init__(self, public_networks: Iterable[Network] = ()) -> None:
        self.public_networks = tuple(public_networks)

    @staticmethod
    def parse(ip: str) -> Address | None:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            return address.ipv4_mapped
        return address

    def kind(self, ip: str) -> str | None:
        """None for a public address, else what it is: loopback, private, link-local..."""
        address = self.parse(ip)
        if address is None:
            return "not an address"
        if any(address in net for net in self.public_networks):
            return None
        for kind, flag in (
            ("unspecified", address.is_unspecified),
            ("loopback", address.is_loopback),
            ("link-local", address.is_link_local),
            ("multicast", address.is_multicast),
            ("private", address.is_private),
            ("reserved", address.is_reserved),
        ):
            if flag:
                return kind
        return None if address.is_global else "not globally routable"

    def is_public(self, ip: str) -> bool:
        return self.kind(ip) is None


@dataclass(slots=True)
class _Fetch:
    first_url: str
    public_only: bool
    url: str  # the hop in progress


class Guard:
    """Decides, per fetch, whether only public addresses may be connected to, and enforces it in
    the connections of the client it is installed on (per thread, like the fetches)."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver = system_resolver, *,
                 public_only: bool = False) -> None:
        """public_only: every fetch connects only to public addresses, even one asked for at a
        private address (the web form's archives)."""
        self.policy = policy
        self.resolver = resolver
        self.always_public = public_only
        self._local = threading.local()

    def _resolve(self, host: str, port: int) -> list[str]:
        if self.policy.parse(host) is not None:
            return [host]
        return self.resolver(host, port)

    @staticmethod
    def _host_port(url: str) -> tuple[str, int]:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        return parts.hostname or "", port

    @contextmanager
    def fetch(self, url: str) -> Iterator[None]:
        """The fetch of url, redirects included: if url's host resolves to a public address,
        every connection of it must be to a public address. A host that does not resolve here
        (only a proxy knows it) counts as public."""
        host, port = self._host_port(url)
        try:
            addresses = self._resolve(host, port)
        except OSError:
            addresses = []
        public = self.always_public or not addresses or any(
            self.policy.is_public(ip) for ip in addresses)
        outer = getattr(self._local, "fetch", None)
        self._local.fetch = _Fetch(first_url=url, public_only=public, url=url)
        try:
            yield
        finally:
            self._local.fetch = outer

    def hop(self, url: str) -> None:
        """Before a redirect hop to url (or its robots.txt) is asked for: refuse it when the fetch
        is public-only and url's host has no public address. A host that does not resolve passes
        (the connection then fails, or a proxy decides); the connection is checked again."""
        state: _Fetch | None = getattr(self._local, "fetch", None)
        if state is None:
            return
        state.url = url
        if not state.public_only or host_key(url) == host_key(state.first_url):
            return  # the first host was looked up already; its connections are checked
        host, port = self._host_port(url)
        try:
            addresses = self._resolve(host, port)
        except OSError:
            return
        if addresses and not any(self.policy.is_public(ip) for ip in addresses):
            raise self._refusal(state, addresses[0])

    def at(self, url: str) -> None:
        """Say which URL the fetch is at (after a robots.txt read), for the refusal's message."""
        state: _Fetch | None = getattr(self._local, "fetch", None)
        if state is not None:
            state.url = url

    def _refusal(self, state: _Fetch, ip: str) -> PrivateAddressRefused:
        kind = self.policy.kind(ip) or "private"
        first = host_key(state.first_url)
        if host_key(state.url) == first:
            message = (f"refused: {first} resolved to a public address, then to a private"
                       f" address {ip} ({kind}) when connecting (DNS rebinding?);"
                       " nothing was fetched from it")
        else:
            message = (f"refused: {first} redirected to a private address {ip}"
                       f" ({kind}: {state.url}); archive a private URL by asking for it directly")
        return PrivateAddressRefused(message, url=state.first_url)

    # -- in the connections -----------------------------------------------------------------

    def public_only(self) -> bool:
        state: _Fetch | None = getattr(self._local, "fetch", None)
        return state is not None and state.public_only

    def refuse(self, ip: str) -> None:
        state: _Fetch | None = getattr(self._local, "fetch", None)
        if state is not None and state.public_only and not self.policy.is_public(ip):
            raise self._refusal(state, ip)

    def connect(
        self, inner: httpcore.NetworkBackend, host: str, port: int, timeout: float | None,
        local_address: str | None, socket_options: Iterable[SocketOption] | None,
    ) -> tuple[httpcore.NetworkStream, str]:
        """Resolve host, keep only public addresses if the fetch is public-only, and connect to
        the first that answers: the address checked is the address connected to."""
        try:
            addresses = self._resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        allowed = [ip for ip in addresses if self.policy.is_public(ip)] if self.public_only() \
            else addresses
        if addresses and not allowed:
            self.refuse(addresses[0])
        error: Exception = httpcore.ConnectError(f"no address for {host}")
        for ip in allowed:
            try:
                return inner.connect_tcp(ip, port, timeout, local_address, socket_options), ip
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error


class _Stream(httpcore.NetworkStream):
    """A connection that knows the address it went to: no request leaves it while a
    public-only fetch is in progress and that address is not public (a pooled connection)."""

    def __init__(self, inner: httpcore.NetworkStream, ip: str, guard: Guard) -> None:
        self._inner = inner
        self._ip = ip
        self._guard = guard

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._guard.refuse(self._ip)
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, timeout), self._ip,
                       self._guard)

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend, guard: Guard) -> None:
        self._inner = inner
        self._guard = guard

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        stream, ip = self._guard.connect(
            self._inner, host, port, timeout, local_address, socket_options
        )
        return _Stream(stream, ip, self._guard)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        return self._inner.connect_unix_socket(path, timeout, socket_options)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def install(client: httpx.Client, guard: Guard) -> bool:
    """Put the guard under the client's direct connections (not under proxy mounts: there the
    address connected to is the proxy's, which the user chose; hop() still checks the target
    host as resolved here). httpx 0.28 has no public way to do it, so this reaches for the
    default transport's pool, as deadline.install does; False if it is not there."""
    transport = getattr(client, "_transport", None)
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if not isinstance(transport, httpx.HTTPTransport) or not isinstance(
        backend, httpcore.NetworkBackend
    ):
        return False
    pool._network_backend = _Backend(backend, guard)  # type: ignore[union-attr]
    return True


def form_policy(settings: Settings) -> AddressPolicy:
    """Public addresses, plus the networks [serve] allow_networks (and [fetch] public_networks)
    name."""
    return AddressPolicy(parse_networks(f"{settings.fetch.public_networks} "
                                        f"{settings.serve.allow_networks}"))


def form_fetch_settings(settings: Settings) -> FetchSettings:
    """[fetch] with the networks [serve] allow_networks names added to its public ones: how an
    archive asked for through the web form is fetched (with allowed_resolver(form_policy))."""
    import dataclasses

    return dataclasses.replace(
        settings.fetch, public_networks=f"{settings.fetch.public_networks} "
                                        f"{settings.serve.allow_networks}".strip())


def allowed_resolver(policy: AddressPolicy, inner: Resolver = system_resolver) -> Resolver:
    """A DNS lookup giving only addresses the policy allows: a name that answered public to the
    form's check and private when fetched (DNS rebinding) cannot be connected to."""

    def resolve(host: str, port: int) -> list[str]:
        addresses = [ip for ip in inner(host, port) if policy.is_public(ip)]
        if not addresses:
            raise OSError(f"{host} resolves to no address the archive form may reach")
        return addresses

    return resolve
