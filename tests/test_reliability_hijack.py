"""Issue 11, Found 3 / must-show 3, on real servers and a real store: a page on another site whose
rel=canonical names an archived thread does not take that thread over; and a read of a thread's
own URL that would flag more than half of its comments removed at once is held until a second
complete read agrees.

"Another site" here is another host and port: thread A is served by 127.0.0.1:P1, the hijacking
page by 127.0.0.2:P2 (Linux routes all of 127.0.0.0/8 to the loopback interface).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from archiver.devserver import FixtureServer
from tests.conftest import FIXTURES, MOA_PATH, REFERENCE, normalise
from tests.reliability_helpers import (
    ONE_PAGE,
    fixture_server,
    number_before,
    query,
    set_body,
)

HIJACK = FIXTURES / "typepad" / "hijack-canonical"
HIJACK_PATH = "/2024/03/first-light.html"
HIJACK_COMMENTS = {"6a00e552000000001000010000200c", "6a00e552000000001000020000200c",
                   "6a00e552000000001000030000200c"}
TITLE = "Syria - Is The ISIS Attack On Abu Kamal Part Of A U.S. Plan?"
MOA_ORIGIN = b"https://www.moonofalabama.org"


@pytest.fixture
def host1() -> Iterator[FixtureServer]:
    server = fixture_server(ONE_PAGE, etags=True)
    yield server
    server.stop()


def thread_rows(db: Path) -> list[tuple]:
    return query(db, "select id, url, title from thread order by id")


def comment_ids(db: Path, thread_id: int) -> set[str]:
    return {s for (s,) in query(db, "select source_id from comment where thread_id = ?",
                                thread_id)}


def test_a_page_on_another_host_cannot_take_over_a_thread_by_its_canonical_link(
    host1: FixtureServer, data_dir: Path, cli, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    db = data_dir / "archiver.db"
    url_a = host1.url(MOA_PATH)
    assert cli("archive", url_a).code == 0
    ((thread_a, stored_url, title),) = thread_rows(db)
    assert title == TITLE
    before = comment_ids(db, thread_a)
    assert len(before) == 40

    host2 = fixture_server(HIJACK, etags=True, host="127.0.0.2")
    try:
        page = (HIJACK / "first-light.html").read_bytes()
        assert MOA_ORIGIN + MOA_PATH.encode() in page  # its canonical link names thread A
        set_body(host2, HIJACK_PATH, page.replace(MOA_ORIGIN, host1.base_url.encode()))
        hijacker = host2.url(HIJACK_PATH)
        assert hijacker.startswith("http://127.0.0.2:")
        result = cli("archive", hijacker)
    finally:
        host2.stop()
    assert result.code == 0, result.err
    assert "Traceback" not in result.err

    # thread A is as it was: its URL, title, 40 comments, none flagged removed
    rows = {row[0]: row for row in thread_rows(db)}
    assert rows[thread_a][1:] == (stored_url, TITLE)
    assert comment_ids(db, thread_a) == before
    assert query(db, "select count(*) from comment where thread_id = ? and removed_at is null",
                 thread_a) == [(40,)]
    assert query(db, "select count(*) from comment where removed_at is not null") == [(0,)]
    # the 3 comments of the other host's page are not in thread A: they are that page's own
    # thread, under its own URL (the canonical link of another site is not believed)
    assert not comment_ids(db, thread_a) & HIJACK_COMMENTS
    others = [row for tid, row in rows.items() if tid != thread_a]
    assert len(others) == 1 and others[0][1].startswith("http://127.0.0.2:"), rows
    assert comment_ids(db, others[0][0]) == HIJACK_COMMENTS
    dump = cli("export", "text", url_a, "-o", "-")
    assert dump.code == 0, dump.err
    assert normalise(dump.out) == normalise(REFERENCE.read_text(encoding="utf-8"))


def keep_comments(html: bytes, keep: int) -> bytes:
    """The page in a state where only its first `keep` comments are left (the others gone)."""
    tree = LexborHTMLParser(html.decode("utf-8"))
    for node in tree.css("div.comment")[keep:]:
        node.decompose()
    return (tree.html or "").encode("utf-8")


def current_and_removed(db: Path) -> tuple[int, int]:
    ((current, removed),) = query(
        db, "select count(*) - count(removed_at), count(removed_at) from comment")
    return current, removed


def says_held(text: str, count: int) -> bool:
    """Whether some line of the output says that `count` removals were not applied (held)."""
    words = re.compile(r"not (yet )?applied|\bheld\b|\bconfirm|\buntil\b|\bpending\b",
                       re.IGNORECASE)
    return any(re.search(rf"(?<!\d){count}(?!\d)", line) and words.search(line)
               for line in text.splitlines())


@pytest.fixture
def plain_host() -> Iterator[FixtureServer]:
    """The thread without ETags: every read is a full read (200), never a 304."""
    server = fixture_server(ONE_PAGE, etags=False)
    yield server
    server.stop()


def test_a_read_flagging_most_comments_removed_waits_for_a_second_read(
    plain_host: FixtureServer, data_dir: Path, cli  # type: ignore[no-untyped-def]
) -> None:
    """5 of 40 comments left on the thread's own page: the first complete read that says so is
    not applied (and the run says so); a second complete read that agrees is."""
    db = data_dir / "archiver.db"
    url = plain_host.url(MOA_PATH)
    assert cli("archive", url).code == 0
    assert current_and_removed(db) == (40, 0)
    set_body(plain_host, MOA_PATH, keep_comments(plain_host.routes[MOA_PATH].body, 5),
             etag=False)

    first = cli("archive", url)
    assert first.code == 0, first.err
    assert "Traceback" not in first.err
    assert current_and_removed(db) == (40, 0)  # 35 of 40 at once: held
    assert says_held(first.out + first.err, 35), (first.out, first.err)
    assert number_before("removed", first.out) == 0, first.out

    second = cli("archive", url)
    assert second.code == 0, second.err
    assert current_and_removed(db) == (5, 35)  # the second complete read agrees: applied
    assert number_before("removed", second.out) == 35, second.out
    assert number_before("comments", second.out) == 5, second.out
    assert query(db, "select count(*) from comment") == [(40,)]  # flagged, never deleted


def test_a_read_flagging_few_comments_removed_is_applied_at_once(
    plain_host: FixtureServer, data_dir: Path, cli  # type: ignore[no-untyped-def]
) -> None:
    """The guard is for more than half: one comment gone of 40 is flagged at the first read."""
    db = data_dir / "archiver.db"
    url = plain_host.url(MOA_PATH)
    assert cli("archive", url).code == 0
    set_body(plain_host, MOA_PATH, keep_comments(plain_host.routes[MOA_PATH].body, 39),
             etag=False)
    result = cli("archive", url)
    assert result.code == 0, result.err
    assert current_and_removed(db) == (39, 1)
    assert number_before("removed", result.out) == 1, result.out
