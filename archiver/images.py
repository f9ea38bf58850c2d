"""Pictures in archived HTML, without I/O: which images a post or comment body shows (the URL
each one is fetched from: its src, or the largest reasonable srcset candidate), and what an
image's bytes are (by their magic, never by a header), for the pipeline and the mirror alike."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

MAX_WIDTH = 2048  # the widest srcset candidate taken when narrower ones exist (px)
MAX_DENSITY = 2.0  # the highest x-descriptor taken when lower ones exist
# one srcset candidate: a URL, then an optional width ("640w") or density ("2x") descriptor
_CANDIDATE = re.compile(r"\s*([^\s,][^\s]*?)(?:\s+(\d+(?:\.\d+)?)([wxWX]))?\s*(?:,|$)")
_AVATAR_HOSTS = ("gravatar.com", "avatars.", "/avatar", "userpics")


@dataclass(frozen=True, slots=True)
class Image:
    """An image a body shows: the URL it is fetched from, its alt text."""

    url: str
    alt: str


def _absolute(base: str, ref: str) -> str | None:
    """ref made absolute against base, without its #fragment; None unless it is http(s)."""
    ref = ref.strip()
    if not ref or ref.lower().startswith("data:"):
        return None
    try:
        joined = urldefrag(urljoin(base, ref))[0]
        parts = urlsplit(joined)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return joined


def _srcset(value: str) -> list[tuple[str, float, str]]:
    """(url, number, "w" or "x") for each candidate of a srcset (no descriptor: 1x)."""
    found = []
    for match in _CANDIDATE.finditer(value):
        url, number, unit = match[1].rstrip(","), match[2], (match[3] or "x").lower()
        if url:
            found.append((url, float(number) if number else 1.0, unit))
    return found


def chosen_source(node: LexborNode, base: str) -> str | None:
    """The URL an img is fetched from: the widest srcset candidate up to MAX_WIDTH (else the
    narrowest), or the densest up to MAX_DENSITY, or src (data-src for lazy loaders without
    one); absolute, or None when there is none to fetch (data: URIs, other schemes)."""
    attrs = node.attributes
    src = (attrs.get("src") or "").strip()
    if not src or src.lower().startswith("data:"):
        src = (attrs.get("data-src") or attrs.get("data-lazy-src") or src).strip()
    candidates = _srcset(attrs.get("srcset") or attrs.get("data-srcset") or "")
    widths = [(n, u) for u, n, unit in candidates if unit == "w"]
    if widths:
        fitting = [c for c in widths if c[0] <= MAX_WIDTH]
        pick = max(fitting)[1] if fitting else min(widths)[1]
        return _absolute(base, pick)
    densities = [(n, u) for u, n, unit in candidates if unit == "x"]
    if src:
        densities.append((1.0, src))
    if not densities:
        return None
    fitting = [c for c in densities if c[0] <= MAX_DENSITY]
    pick = max(fitting, key=lambda c: c[0])[1] if fitting else min(densities)[1]
    return _absolute(base, pick)


def _dimension(value: str | None) -> int | None:
    text = (value or "").strip().lower().removesuffix("px").strip()
    return int(text) if text.isdecimal() and len(text) < 7 else None


def left_out(node: LexborNode, url: str, *, avatars: bool = False) -> str | None:
    """Why an image of a body is left out by default, or None: a tracking pixel (1x1 by its
    attributes), an avatar (by its class or host) unless avatars are wanted."""
    attrs = node.attributes
    width, height = _dimension(attrs.get("width")), _dimension(attrs.get("height"))
    if (width is not None and width <= 1) or (height is not None and height <= 1):
        return "a tracking pixel"
    if not avatars:
        classes = (attrs.get("class") or "").lower()
        if "avatar" in classes or "userpic" in classes or any(
                mark in url.lower() for mark in _AVATAR_HOSTS):
            return "an avatar"
    return None


def _imgs(fragment: str) -> Iterator[LexborNode]:
    if "<img" not in fragment.lower():
        return
    tree = LexborHTMLParser(fragment)
    yield from tree.css("img")


def body_images(fragment: str, base: str, *, avatars: bool = False) -> list[Image]:
    """The images a body shows that are fetched, in order, each URL once."""
    seen: dict[str, Image] = {}
    for node in _imgs(fragment):
        url = chosen_source(node, base)
        if url is None or url in seen or left_out(node, url, avatars=avatars):
            continue
        seen[url] = Image(url, (node.attributes.get("alt") or "").strip())
    return list(seen.values())


@dataclass(frozen=True, slots=True)
class Kind:
    """What an image's bytes are: its media type, file extension, size in pixels if known."""

    media_type: str
    extension: str
    width: int | None = None
    height: int | None = None

    @property
    def pixel(self) -> bool:
        """A 1x1 (or smaller) image: a tracking pixel, whatever its markup said."""
        return self.width is not None and self.height is not None and \
            self.width <= 1 and self.height <= 1


# the formats a browser shows in <img>, by Pillow's name
_FORMATS = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg"),
            "GIF": ("image/gif", "gif"), "WEBP": ("image/webp", "webp"),
            "BMP": ("image/bmp", "bmp"), "ICO": ("image/x-icon", "ico"),
            "AVIF": ("image/avif", "avif")}
_SVG = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]",
    re.IGNORECASE | re.DOTALL)
EXTENSIONS = {media: ext for media, ext in [*_FORMATS.values(), ("image/svg+xml", "svg")]}


def sniff(data: bytes) -> Kind | None:
    """What the bytes are, read from them (Pillow reads the header), or None when they are no
    image a browser shows (an HTML page posing as one, a truncated file, a PDF...)."""
    if _SVG.match(data[:4096]):
        return Kind("image/svg+xml", "svg")
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning: we only read the header
            with PILImage.open(io.BytesIO(data)) as image:
                known = _FORMATS.get(image.format or "")
                if known is None:
                    return None
                width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError, PILImage.DecompressionBombError):
        return None
    return Kind(known[0], known[1], width, height)
