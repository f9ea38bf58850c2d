"""The pictures step, after a thread's pages are read: the images its stored post and comment
bodies show, fetched with the same fetcher (politeness, robots.txt, limits; each host at its
own pace, hosts side by side), each exchange stored as a Capture before its bytes are judged by
their magic. A picture held already is not fetched again; one that failed is tried again on the
next read. Never fatal: a failure is a line on the report.

Only the bodies that can show a picture not yet known are read: the post, and the comments new,
edited or restored since the last step that finished (thread.pictures_scanned_at; the first
step of a thread, or one wanting avatars, reads them all). A step cut short (a crash) leaves
the mark where it was: the next reads those comments again."""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from archiver.config import PicturesPolicy
from archiver.errors import FetchError, RobotsDisallowed
from archiver.fetch import Fetcher, FetchResult
from archiver.fetch.limits import LimitExceeded
from archiver.fetch.politeness import host_key
from archiver.images import body_images, sniff
from archiver.pipeline.report import ArchiveReport
from archiver.store import captures as captures_store
from archiver.store import repo
from archiver.store.models import Capture, Comment, Picture, Thread

log = logging.getLogger("archiver.pipeline")

ACCEPT = "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"


def wanted(
    session: Session, thread: Thread, policy: PicturesPolicy, *,
    since: datetime | None = None, now: datetime | None = None, restored: Collection[int] = (),
) -> list[str]:
    """The URLs of the images the thread's post and current comments show, in page order. With
    since: of the post and the comments changed after since (or at now: in this run) or
    restored (their ids), the others read already (by the step that set since)."""
    urls: dict[str, None] = {}
    changed = col(Comment.changed_at)
    query = (
        select(col(Comment.body_html), col(Comment.page_url))
        .where(Comment.thread_id == (thread.id or 0), col(Comment.removed_at).is_(None),
               col(Comment.body_html).ilike("%<img%"))  # body_images reads no other body
        .order_by(col(Comment.position), col(Comment.id))
    )
    if since is not None:
        recent = [changed > since]
        if now is not None:
            recent.append(changed >= now)
        if restored:
            recent.append(col(Comment.id).in_(list(restored)))
        query = query.where(or_(*recent))
    bodies = [(thread.body_html, thread.url)] + [
        (body, page_url or thread.url) for body, page_url in session.exec(query)]
    for body, base in bodies:
        for image in body_images(body, base, avatars=policy.avatars):
            urls.setdefault(image.url, None)
    return list(urls)


@dataclass(slots=True)
class _Outcome:
    """One picture's fetch, as a worker saw it: every exchange (stored by the caller, in order),
    the robots.txt reads on the way, and the error if it failed."""

    url: str
    exchanges: list[FetchResult] = field(default_factory=list)
    robots: list[FetchResult] = field(default_factory=list)
    error: Exception | None = None
    skipped: str = ""  # not asked for: why


class _Budget:
    """The thread's picture bytes left (max_total less what is held), shared by the workers."""

    def __init__(self, left: int) -> None:
        self.left = left
        self.lock = threading.Lock()

    def take(self, size: int) -> bool:
        with self.lock:
            if size > self.left:
                return False
            self.left -= size
            return True


def _fetch_host(fetcher: Fetcher, thread_url: str, urls: list[str], policy: PicturesPolicy,
                budget: _Budget) -> list[_Outcome]:
    """One host's pictures, one after another at the host's pace (the fetcher's politeness)."""
    outcomes = []
    for url in urls:
        outcome = _Outcome(url)
        outcomes.append(outcome)
        if budget.left <= 0:
            outcome.skipped = f"the thread's pictures reached their total ({policy.max_total} B)"
            continue
        try:
            with fetcher.guard.fetch(thread_url):  # a public page leads to no private address
                fetcher.guard.hop(url)
            fetcher.fetch(url, record=outcome.exchanges.append,
                          record_robots=outcome.robots.append, accept=ACCEPT,
                          max_body=policy.max_size)
        except FetchError as exc:
            outcome.error = exc
        except Exception as exc:  # noqa: BLE001 - a picture never stops the run
            outcome.error = exc
    return outcomes


def _reason(error: Exception) -> str:
    if isinstance(error, RobotsDisallowed):
        return "robots.txt disallows it"
    if isinstance(error, LimitExceeded) and "byte limit" in str(error):
        return f"too large ({error})"
    return str(error) or type(error).__name__


def fetch_pictures(
    session: Session, fetcher: Fetcher, thread: Thread, policy: PicturesPolicy,
    report: ArchiveReport, now: datetime, restored: Collection[int] = (),
) -> None:
    """Fetch the thread's pictures not held yet: those of the bodies changed since the last
    step, and every one that failed before; note on the report what the thread holds, what was
    fetched and what skipped (with why). restored: comments this read restored."""
    if not policy.enabled or thread.id is None:
        return
    since = None if policy.avatars else thread.pictures_scanned_at  # avatars: every body
    urls = wanted(session, thread, policy, since=since, now=now, restored=restored)
    held = {p.url: p for p in session.exec(select(Picture).where(Picture.thread_id == thread.id)
                                           .order_by(col(Picture.id)))}
    shown = dict.fromkeys(urls)
    if since is not None:  # the pictures of the bodies not read now are those known already
        shown.update(dict.fromkeys(held))
    report.pictures = len(shown)
    todo = [u for u in shown if u not in held or held[u].state != "ok"]
    if todo:
        _fetch_all(session, fetcher, thread, policy, report, now, held, todo)
    thread.pictures_scanned_at = now  # every body changed up to this run is read (a later
    # mark another writer set may move back: its comments are then read again, never skipped)
    session.commit()


def _fetch_all(session: Session, fetcher: Fetcher, thread: Thread, policy: PicturesPolicy,
               report: ArchiveReport, now: datetime, held: dict[str, Picture],
               todo: list[str]) -> None:
    """Fetch the pictures of todo, host by host, and store each outcome."""
    used = sum(p.size for p in held.values() if p.state == "ok")
    budget = _Budget(policy.max_total - used)
    by_host: dict[str, list[str]] = {}
    for url in todo:
        by_host.setdefault(host_key(url), []).append(url)
    session.commit()  # no write transaction held while the network is read
    workers = max(1, min(len(by_host), fetcher.settings.max_concurrency))
    with ThreadPoolExecutor(workers, thread_name_prefix="pictures") as pool:
        futures = [pool.submit(_fetch_host, fetcher, thread.url, host_urls, policy, budget)
                   for host_urls in by_host.values()]
        for future in as_completed(futures):
            _store(session, thread, held, future.result(), budget, policy, report, now)


def _store(session: Session, thread: Thread, held: dict[str, Picture],
           outcomes: Iterable[_Outcome], budget: _Budget, policy: PicturesPolicy,
           report: ArchiveReport, now: datetime) -> None:
    """Store each outcome's exchanges (before judging them), then the picture's state."""
    for outcome in outcomes:
        for robots in outcome.robots:
            captures_store.save_capture(session, robots)
        captures = [captures_store.save_capture(session, ex, thread_id=thread.id)
                    for ex in outcome.exchanges]
        session.commit()
        picture = held.get(outcome.url)
        if picture is None:  # another archiver may be storing the same picture: no duplicate
            repo.insert_ignore(session, Picture, dict(
                thread_id=thread.id or 0, url=outcome.url, state="failed", media_type="",
                size=0, attempts=0, first_seen_at=now), ["thread_id", "url"])
            picture = session.exec(select(Picture).where(
                Picture.thread_id == thread.id, Picture.url == outcome.url)).one()
            held[outcome.url] = picture
        picture.attempts += 1
        picture.last_tried_at = now
        reason = _judge(picture, outcome, captures, budget, policy)
        if reason is None:
            report.pictures_new += 1
        else:
            picture.state, picture.reason = "failed", reason
            report.pictures_failed.append(f"{outcome.url}: {reason}")
            log.info("picture skipped: %s: %s", outcome.url, reason)
        session.commit()


def _judge(picture: Picture, outcome: _Outcome, captures: list[Capture], budget: _Budget,
           policy: PicturesPolicy) -> str | None:
    """Why the picture could not be had (None: it is held now, state "ok")."""
    if outcome.skipped:
        return outcome.skipped
    if outcome.error is not None:
        return _reason(outcome.error)
    final, result = captures[-1], outcome.exchanges[-1]
    picture.capture_id = final.id
    if result.status != 200:
        return f"HTTP {result.status} {result.reason}".rstrip()
    kind = sniff(result.body)
    if kind is None:
        declared = result.header("content-type") or "no content type"
        final.parsed_ok, final.parse_error = False, "not an image"
        return f"not an image (its bytes are no image format; it said {declared})"
    if kind.pixel:
        final.parsed_ok, final.parse_error = False, "a tracking pixel"
        return "a tracking pixel (1x1)"
    if not budget.take(len(result.body)):
        return f"over the thread's picture total ({policy.max_total} B)"
    final.parsed_ok, final.parse_error = True, None
    picture.state, picture.reason = "ok", None
    picture.media_type, picture.width, picture.height = kind.media_type, kind.width, kind.height
    picture.size = len(result.body)
    return None
