"""Where exports are written: safe file names from slugs (never outside the output folder),
output folders that are ours to update, and atomic writes that leave unchanged files alone.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO
from urllib.parse import urlsplit

from archiver.errors import UsageError
from archiver.store.models import Site, Thread

MARKER = ".archiver-export"  # a folder holding this file was written by us: we may update it
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_length: int = 80, fallback: str = "item") -> str:
    """Lowercase ASCII letters, digits and single dashes; never empty, never '.' or '..'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    return slug or fallback


def plural(n: int, word: str, many: str | None = None) -> str:
    """"1 thread", "2 threads" (many: an irregular plural)."""
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"


def _short_hash(text: str, length: int) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def site_slug(site: Site) -> str:
    """Folder name of a site: its host (and path, for one of several sites on a host), plus a
    short hash of its origin or base URL (so never ambiguous)."""
    parts = urlsplit(site.base_url or site.origin)
    host = parts.netloc or site.origin
    if parts.path.strip("/"):
        return f"{slugify(host + ' ' + parts.path, 60, 'site')}-{_short_hash(site.base_url, 6)}"
    return f"{slugify(host, 60, 'site')}-{_short_hash(site.origin, 6)}"


def thread_slug(thread: Thread) -> str:
    """File stem of a thread: its URL path, plus a short hash of its URL (stable, unique)."""
    parts = urlsplit(thread.url)
    path = parts.path.rsplit(".", 1)[0] if "." in parts.path.rsplit("/", 1)[-1] else parts.path
    stem = slugify(f"{path} {parts.query}", 80, "thread")
    return f"{stem}-{_short_hash(thread.url, 8)}"


def inside(root: Path, *parts: str) -> Path:
    """root/parts..., refusing anything that would resolve outside root."""
    for part in parts:
        if not part or part in (".", "..") or "/" in part or "\\" in part or "\x00" in part:
            raise ValueError(f"unsafe path component {part!r}")
    path = root.joinpath(*parts)
    resolved_root = root.resolve()
    if not path.resolve().is_relative_to(resolved_root):
        raise ValueError(f"{path} is outside {root}")
    return path


def _file_in_the_way(path: Path) -> Path | None:
    """The nearest existing ancestor of path when it is not a folder (-o /etc/hostname/x.txt)."""
    for parent in path.parents:
        try:
            if parent.exists():
                return None if parent.is_dir() else parent
        except OSError:
            return None
    return None


def cannot_write(path: Path | str, exc: OSError) -> UsageError:
    blocker = _file_in_the_way(Path(path))
    if blocker is not None:  # the OS says "File exists" or "Not a directory": say which
        return UsageError(f"cannot write {path}: {blocker} is not a folder")
    reason = exc.strerror or str(exc)
    return UsageError(f"cannot write {path}: {reason}")


def prepare_folder(folder: Path) -> None:
    """Make the output folder, or accept an existing one that is empty or an earlier export of
    ours. Refuses other non-empty folders, so an export never litters a folder like $HOME."""
    try:
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"cannot write {folder}: it is a file, not a folder")
        if folder.is_dir() and any(folder.iterdir()) and not (folder / MARKER).exists():
            raise UsageError(
                f"{folder} is not empty and was not written by archiver export: "
                "choose a new or empty folder"
            )
        folder.mkdir(parents=True, exist_ok=True)
        marker = folder / MARKER
        if not marker.exists():
            marker.write_text("This folder is an archiver export; re-exporting updates it.\n",
                              encoding="utf-8")
    except OSError as exc:
        raise cannot_write(folder, exc) from None


def prepare_file(path: Path) -> Path:
    """Check that a file can be created at path (its folder is made if missing); returns the
    path to write: a symbolic link's target. A pipe or a device is refused: an export replaces
    its file whole (written aside, then renamed), which would put a plain file in its place."""
    try:
        if path.is_symlink():
            try:
                path = path.resolve()  # a link to a file not made yet is fine: it gets made
            except RuntimeError:  # a loop (Python 3.13 raises OSError ELOOP: handled below)
                raise UsageError(f"cannot write {path}: a loop of symbolic links") from None
        if path.is_dir():
            raise UsageError(f"cannot write {path}: it is a folder")
        if path.exists() and not path.is_file():
            raise UsageError(
                f"cannot write {path}: not a regular file (a pipe or a device; use -o - for stdout)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        if not os.access(path.parent, os.W_OK):
            raise UsageError(f"cannot write {path}: permission denied")
    except OSError as exc:
        raise cannot_write(path, exc) from None
    return path


def _same_content(a: Path, b: Path) -> bool:
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
    except FileNotFoundError:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            ca, cb = fa.read(1 << 16), fb.read(1 << 16)
            if ca != cb:
                return False
            if not ca:
                return True


class Written:
    """Counts of files an export wrote, and of files it found already up to date."""

    def __init__(self) -> None:
        self.changed = 0
        self.unchanged = 0

    @property
    def total(self) -> int:
        return self.changed + self.unchanged


@contextmanager
def atomic_binary(path: Path, written: Written | None = None) -> Iterator[BinaryIO]:
    """Write path through a temporary file in the same folder; replace the old file only if the
    content differs (so a re-export leaves unchanged files, and their times, alone)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        if _same_content(tmp, path):
            tmp.unlink()
            if written is not None:
                written.unchanged += 1
        else:
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
            if written is not None:
                written.changed += 1
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise cannot_write(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_text(path: Path, written: Written | None = None) -> Iterator[TextIO]:
    """atomic_binary for UTF-8 text with \\n line ends."""
    import io

    with atomic_binary(path, written) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
        try:
            yield text
        finally:
            text.flush()
            text.detach()
