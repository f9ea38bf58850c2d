"""archiver: archive discussion threads (a post and every comment on it) and export them."""

import sys

__version__ = "0.1.0"

# httpx imports its own command line (httpx._main: click, rich.syntax, pygments' lexers) in
# every process that imports httpx, when those are installed (rich brings them): ~50-70 ms of
# each `archiver` start for a tool archiver never runs. A None entry makes that one import fail
# as if they were missing; httpx then defines a stand-in `httpx.main` and nothing else changes
# (the `httpx` console script runs in a process of its own).
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
