"""What one archive run of a thread did: counts, completeness and the problems met."""

from __future__ import annotations

from dataclasses import dataclass, field

from archiver.errors import ArchiverError, IncompleteFetch, IncompleteParse


@dataclass(slots=True)
class ArchiveReport:
    """What one archive run of a thread did."""

    url: str
    thread_id: int | None = None
    title: str = ""
    comments: int = 0  # current (not removed) comments after the run
    pings: int = 0  # current pingbacks and trackbacks (never counted as comments)
    pages: int = 0  # requests read (pages, API answers)
    pages_not_modified: int = 0
    new: int = 0
    edited: int = 0
    removed: int = 0
    restored: int = 0  # comments flagged removed before, seen again
    held_back: int = 0  # removals waiting for a second complete read to confirm them
    complete: bool = False
    closed: bool = False
    parse_errors: list[str] = field(default_factory=list)
    failed_pages: list[str] = field(default_factory=list)  # pages that could not be fetched
    fallbacks: list[str] = field(default_factory=list)  # optional requests read another way
    stopped: str = ""  # why the read stopped short of its last request (page limit, a loop)
    pictures: int = 0  # images the post and comments show, or showed when read (pictures.py)
    pictures_new: int = 0  # fetched in this run
    pictures_failed: list[str] = field(default_factory=list)  # "URL: why", tried again next run

    @property
    def changed(self) -> bool:
        return bool(self.new or self.edited or self.removed or self.restored)

    @property
    def problems(self) -> list[str]:
        """Why the read is incomplete: failed pages, pages that could not be parsed."""
        return self.failed_pages + self.parse_errors

    def summary(self) -> str:
        parts = [f"{self.comments} comments", f"{self.pages} page{'s' * (self.pages != 1)}"]
        if self.pings:
            parts.insert(1, f"{self.pings} ping{'s' * (self.pings != 1)}")
        if self.pages_not_modified:
            parts.append(f"{self.pages_not_modified} unchanged")
        parts.append(f"{self.new} new, {self.edited} edited, {self.removed} removed")
        if self.restored:
            parts.append(f"{self.restored} restored")
        if self.held_back:
            parts.append(f"{self.held_back} removals held back until the next complete read "
                         "confirms them")
        if self.closed:
            parts.append("comments closed")
        if self.pictures:
            parts.append(f"{self.pictures} picture{'s' * (self.pictures != 1)} "
                         f"({self.pictures_new} new)")
        if self.pictures_failed:
            parts.append(f"{len(self.pictures_failed)} picture(s) skipped")
        if self.failed_pages:
            parts.append(f"{len(self.failed_pages)} page(s) could not be fetched")
        if self.fallbacks:
            parts.append(f"{len(self.fallbacks)} optional request(s) read another way")
        if self.parse_errors:
            parts.append(f"{len(self.parse_errors)} page(s) failed to parse")
        if not self.complete:
            parts.append("incomplete: nothing flagged removed")
        return f"Archived {self.title!r}: " + ", ".join(parts)


def incomplete_error(report: ArchiveReport) -> ArchiverError:
    """The one line for a thread read in part: the first page that failed, how many more."""
    first, more = report.problems[0], len(report.problems) - 1
    also = f" (and {more} more page{'s' * (more != 1)})" if more else ""
    message = (f"incomplete read of {report.url}: {first}{also}; the comments read are kept and "
               "none is flagged removed: run archive again to fetch the rest")
    if report.failed_pages:
        return IncompleteFetch(message, url=report.url)
    return IncompleteParse(message)
