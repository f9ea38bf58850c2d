"""The web app's guards: a token on every request when one is configured (HTTP Basic password or
Bearer), a Content-Security-Policy forbidding scripts and network loads on every answer, and the
archive form's cross-site check (same Origin, and a token matching its cookie)."""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import secrets

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Our pages: no script at all, nothing loaded but our own stylesheet, forms post only to us,
# never framed. Archived HTML is sanitised as well (archiver.export.html.sanitize).
CSP = (
    "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; "
    "font-src 'none'; media-src 'none'; object-src 'none'; frame-src 'none'; "
    "connect-src 'none'; worker-src 'none'; manifest-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),  # our form posts carry their Origin
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
CSRF_COOKIE = "archiver_csrf"
CSRF_FIELD = "csrf"


def is_loopback(host: str) -> bool:
    """Whether a listening address is loopback only (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def token_ok(headers: Headers, token: str) -> bool:
    """Whether the request carries the token: `Authorization: Bearer TOKEN`, or HTTP Basic
    with TOKEN as the password (any user name), compared in constant time."""
    value = headers.get("authorization", "")
    scheme, _, credentials = value.partition(" ")
    given = ""
    if scheme.lower() == "bearer":
        given = credentials.strip()
    elif scheme.lower() == "basic":
        try:
            given = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        given = given.partition(":")[2]
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


class Guard:
    """ASGI middleware: the token check (401 without it) and the security headers on every
    answer, downloads and errors included."""

    def __init__(self, app: ASGIApp, token: str = "") -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in HEADERS}
                message["headers"] = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in names
                ] + HEADERS
            await send(message)

        if self.token and not token_ok(Headers(scope=scope), self.token):
            response = PlainTextResponse(
                "401: this archive needs its token (the password of [serve] token)\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="archiver", charset="UTF-8"'})
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_origin(request: Request) -> bool:
    """Whether a form post comes from our own pages: its Origin (else Referer) names the host
    the request was sent to. A request with neither passes here: the token decides."""
    host = request.headers.get("host", "")
    for header in ("origin", "referer"):
        value = request.headers.get(header)
        if value:
            if value == "null":
                return False
            rest = value.split("://", 1)[-1]
            return rest.split("/", 1)[0].lower() == host.lower()
    return True


def csrf_ok(request: Request, submitted: str) -> bool:
    """The form's hidden token matches its cookie (SameSite=Strict: another site's page cannot
    send it), and the post is same-origin."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return (same_origin(request) and bool(cookie) and bool(submitted)
            and hmac.compare_digest(cookie.encode(), submitted.encode()))
