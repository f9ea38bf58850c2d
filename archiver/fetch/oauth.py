"""Application-only OAuth for APIs that need a bearer token (Reddit's): the token is asked for
once, kept until it expires, put on the requests to the API's host; never stored or exported.

Adapters stay pure: they build the API's URLs; the fetcher (client.py) asks an ``OAuth`` for the
Authorization header of each URL. The token request (client credentials, HTTP basic auth) is not
recorded as a capture (its answer is the token itself), and every recorded exchange has its
credential headers redacted (``redact``) before the store sees it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from archiver.errors import ConfigError, FetchError

log = logging.getLogger("archiver.fetch")

REDACTED = "[redacted]"
# request headers that carry credentials: their values never reach the store or an export
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


def redact(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers with every credential's value replaced by ``[redacted]`` (names kept)."""
    return [(k, REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers]


@dataclass(frozen=True, slots=True)
class OAuthApp:
    """One API that needs application-only OAuth: the hosts it guards, where tokens are had,
    the app's credentials (empty when not configured) and what to tell the user then."""

    name: str  # e.g. "Reddit"
    api_hosts: tuple[str, ...]  # hosts whose requests carry the bearer token
    token_url: str
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    how_to_configure: str = ""  # the one line said when a request needs it and it is missing

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)


def reddit_app(client_id: str = "", client_secret: str = "") -> OAuthApp:
    """Reddit's API (https://github.com/reddit-archive/reddit/wiki/OAuth2, application-only
    OAuth: grant_type=client_credentials with the app's id and secret as HTTP basic auth)."""
    return OAuthApp(
        name="Reddit",
        api_hosts=("oauth.reddit.com",),
        token_url="https://www.reddit.com/api/v1/access_token",
        client_id=client_id,
        client_secret=client_secret,
        how_to_configure=(
            "Reddit's API needs OAuth credentials: set client_id and client_secret in the "
            "config's [reddit] table (or ARCHIVER_REDDIT_CLIENT_ID and "
            "ARCHIVER_REDDIT_CLIENT_SECRET; a 'script' app made at "
            "https://www.reddit.com/prefs/apps)"
        ),
    )


# Reddit's published budget: 100 queries per minute per OAuth client id
REDDIT_MIN_DELAY = 60.0 / 100


@dataclass(slots=True)
class _Token:
    value: str
    expires: float  # on the OAuth's clock


class OAuth:
    """Bearer tokens for the configured apps, asked for when first needed and again when they
    expire (or the API answers 401). Thread-safe."""

    def __init__(self, apps: Sequence[OAuthApp], *, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.apps = tuple(apps)
        self.clock = clock
        self._tokens: dict[str, _Token] = {}
        self._lock = threading.Lock()
        self.tokens_fetched = 0  # how many token requests were made (tests count them)

    def app_for(self, url: str) -> OAuthApp | None:
        host = (urlsplit(url).hostname or "").lower()
        return next((app for app in self.apps if host in app.api_hosts), None)

    def check(self, url: str) -> None:
        """Raise ConfigError (one line: what to configure) when url needs missing credentials."""
        app = self.app_for(url)
        if app is not None and not app.configured:
            raise ConfigError(app.how_to_configure)

    def forget(self, url: str) -> None:
        """Drop the token used for url (the API refused it): the next request asks anew."""
        app = self.app_for(url)
        if app is not None:
            with self._lock:
                self._tokens.pop(app.name, None)

    def header(self, url: str, post: Callable[[OAuthApp], httpx.Response]) -> dict[str, str]:
        """The Authorization header for url ({} when its host needs none). post(app) makes the
        token request (the fetcher's client, its origin map and guards)."""
        app = self.app_for(url)
        if app is None:
            return {}
        self.check(url)
        with self._lock:
            token = self._tokens.get(app.name)
            if token is None or token.expires <= self.clock():
                token = self._fetch_token(app, post)
                self._tokens[app.name] = token
        return {"Authorization": f"bearer {token.value}"}

    def _fetch_token(self, app: OAuthApp, post: Callable[[OAuthApp], httpx.Response]) -> _Token:
        self.tokens_fetched += 1
        try:
            response = post(app)
        except httpx.HTTPError as exc:
            raise FetchError(f"{app.name} OAuth token request failed: {exc}",
                             url=app.token_url) from None
        if response.status_code in (401, 403):
            raise ConfigError(f"{app.name} refused the OAuth credentials (HTTP "
                              f"{response.status_code}): check [reddit] client_id and "
                              "client_secret")
        try:
            data = response.json()
            value = str(data["access_token"])
            lifetime = float(data.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise FetchError(f"{app.name} OAuth token request answered HTTP "
                             f"{response.status_code} without an access_token",
                             url=app.token_url, status=response.status_code) from None
        log.info("%s OAuth token obtained (valid %.0f s)", app.name, lifetime)
        # renewed a minute early: a request sent just before expiry must not be refused
        return _Token(value, self.clock() + max(lifetime - 60.0, lifetime / 2))


def token_poster(client: httpx.Client, locate: Callable[[str], str]
                 ) -> Callable[[OAuthApp], httpx.Response]:
    """The token request for an app, made with client (locate: the fetcher's origin map): the
    client credentials grant, the app's id and secret as HTTP basic auth. Never recorded."""

    def post(app: OAuthApp) -> httpx.Response:
        return client.post(locate(app.token_url), auth=(app.client_id, app.client_secret),
                           data={"grant_type": "client_credentials"},
                           headers={"Accept": "application/json"})

    return post
