"""The adapter contract: what a platform module declares and the pure callbacks it offers.

Sans-I/O (as in h11): an adapter never fetches. It is handed a ``Response`` and yields what it
found there (``ParsedThread``, ``ParsedComment``, ``PageFacts``) and the further ``Request``\\ s
whose answers it needs, each naming the callback that reads that answer. The engine
(archiver.pipeline) does the rest: fetching, storing the capture first, merging, completeness.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, runtime_checkable

from archiver.adapters.base import PageFacts, ParsedComment, ParsedThread

HTML = "text/html"
JSON = "application/json"
# the content types an answer may have for each kind of request (an empty one is let through)
ACCEPTED_TYPES: dict[str, tuple[str, ...]] = {
    HTML: ("text/html", "application/xhtml+xml"),
    JSON: ("application/json",),
}


@dataclass(frozen=True, slots=True)
class Response:
    """One answer as an adapter sees it: the final URL, status, headers and body."""

    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    content: bytes
    text: str

    def header(self, name: str) -> str | None:
        """The first header called name (any case), or None."""
        low = name.lower()
        return next((value for key, value in self.headers if key.lower() == low), None)

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    def json(self) -> Any:  # noqa: ANN401 - JSON is any shape; the adapter reads what it expects
        """The body read as JSON (ValueError when it is none: a parse failure)."""
        return json.loads(self.text)


Found: TypeAlias = "ParsedThread | ParsedComment | PageFacts | Request"
Callback: TypeAlias = "Callable[[Response], Iterable[Found]]"


@dataclass(frozen=True, slots=True)
class Request:
    """A URL the adapter needs read, and the callback that reads its answer."""

    url: str
    then: Callback
    accept: str = HTML  # HTML or JSON: the content types the answer may have (ACCEPTED_TYPES)
    # an optional request (e.g. a JSON API beside the HTML page): when its answer cannot be
    # had or read (a fetch error, HTTP 4xx/5xx, another content type, the callback raising),
    # the engine logs why and takes what fallback() yields instead; the read stays complete
    fallback: Callable[[], Iterable[Found]] | None = None
    # False: the answer is needed (e.g. a forum's page 1, the post): its fallback keeps what can
    # be kept, and the read is incomplete all the same (nothing flagged removed)
    optional: bool = True


@runtime_checkable
class Adapter(Protocol):
    """What every platform adapter (a module, or any object) offers."""

    @property
    def PLATFORM(self) -> str: ...  # noqa: N802 - the module-level constant's name

    @property
    def URL_PATTERNS(self) -> Sequence[re.Pattern[str]]: ...  # noqa: N802 - URLs it claims

    @property
    def EXAMPLES(self) -> Sequence[str]: ...  # noqa: N802 - URLs a test checks the patterns by

    def matches(self, html: str, url: str) -> bool:
        """Whether a page is this platform's, by its markup (self-hosted software)."""
        ...

    def start(self, url: str) -> Request:
        """The first request for the thread at url."""
        ...
