"""Issue 19, post dates: on real TypePad templates whose post footer shows no time ("January 12,
2006 in Birds"), the date header gives the post's day (published_at at the day's precision);
the refresh policy's max_age counts from it; the mirror's index and `status` show it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from archiver.adapters.typepad import parse_page
from archiver.config import load_settings
from archiver.devserver import serve_fixture
from archiver.fetch import Fetcher
from archiver.schedule import Runner
from archiver.store.db import Store
from archiver.store.models import Thread
from tests.conftest import FIXTURES

REAL = {
    "pmbryant-bandb-2006-01-new-years-snowy": (
        "/b_and_b/2006/01/new_years_snowy.html", datetime(2006, 1, 12, tzinfo=UTC),
        "January 12, 2006"),
    "pmbryant-letyourselfgo-2020-05-pard": (
        "/letyourselfgo/2020/05/pard-the-dog-from-high-sierra-was-it-really-bogarts-dog.html",
        datetime(2020, 5, 15, tzinfo=UTC), "May 15, 2020"),
}
SNOWY = "pmbryant-bandb-2006-01-new-years-snowy"


@pytest.mark.parametrize("case", sorted(REAL))
def test_real_page_post_day_from_the_date_header(case: str) -> None:
    path, day, shown = REAL[case]
    html = (FIXTURES / "typepad" / case / "page.html").read_text(encoding="utf-8")
    thread = parse_page(html, "https://pmbryant.typepad.com" + path).thread
    assert (thread.published_at, thread.published_precision) == (day, "day")
    assert thread.published_text == shown == thread.date_header
    assert thread.author == ""  # the footer names nobody: nothing is made up


TEMPLATE = """<html><body><div id="banner-header"><a href="https://b.typepad.com/blog/">B</a></div>
<h2 class="date-header">{header}</h2><div class="entry"><h3 class="entry-header">Owls</h3>
<div class="entry-body"><p>Text</p></div><p class="entry-footer">
<span class="post-footers">{footer}</span></p></div></body></html>"""


@pytest.mark.parametrize(("header", "footer", "stamp", "precision", "author"), [
    # a template with the time of day in the footer: the day and that time
    ("Thursday, January 12, 2006", "Posted by Peter at 08:15 PM in Birds",
     datetime(2006, 1, 12, 20, 15, tzinfo=UTC), "time", "Peter"),
    ("12 January 2006", "Posted at 07:05 in Birds", datetime(2006, 1, 12, 7, 5, tzinfo=UTC),
     "time", ""),
    # the footer's own date and time win over the header
    ("January 11, 2006", "Posted by b on January 12, 2006 at 18:39 UTC in Birds",
     datetime(2006, 1, 12, 18, 39, tzinfo=UTC), "time", "b"),
    # a footer naming a day only: that day, as a day
    ("", "Posted by b on January 12, 2006 in Birds", datetime(2006, 1, 12, tzinfo=UTC), "day",
     "b"),
    # nothing readable: no date, rather than a wrong one
    ("Some day", "in Birds", None, "time", ""),
])
def test_post_date_variants(header: str, footer: str, stamp: datetime | None, precision: str,
                            author: str) -> None:
    html = TEMPLATE.format(header=header, footer=footer)
    thread = parse_page(html, "https://b.typepad.com/blog/2006/01/owls.html").thread
    assert (thread.published_at, thread.published_precision, thread.author) == (
        stamp, precision, author)


def _runner(data_dir: Path, env: dict[str, str]) -> tuple[Runner, Store]:
    settings = load_settings(None, {"ARCHIVER_DATA_DIR": str(data_dir), **env})
    store = Store(settings.db_url)
    return Runner(settings, store, Fetcher(settings.fetch)), store


def test_max_age_counts_from_the_post_day(data_dir: Path, cli) -> None:  # type: ignore[no-untyped-def]
    server = serve_fixture(FIXTURES / "typepad" / SNOWY)
    try:
        assert cli("archive", server.url(REAL[SNOWY][0])).code == 0
    finally:
        server.stop()
    # posted in 2006, comments open: with max_age 30 days (the default) it is not followed
    status = cli("status")
    assert status.code == 0, status.err
    assert "1 open past max_age 30d: no longer refreshed" in status.out
    runner, store = _runner(data_dir, {})
    with store.session() as session:
        runner.plan_unplanned(session, datetime(2026, 11, 30, tzinfo=UTC))
        thread = session.exec(select(Thread)).one()
        assert thread.status == "open" and thread.next_due_at is None
    store.close()


def test_status_and_mirror_index_show_the_post_day(  # type: ignore[no-untyped-def]
    data_dir: Path, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVER_REFRESH_MAX_AGE", "40000d")  # old enough to be followed still
    server = serve_fixture(FIXTURES / "typepad" / SNOWY)
    try:
        assert cli("archive", server.url(REAL[SNOWY][0])).code == 0
    finally:
        server.stop()
    runner, store = _runner(data_dir, {"ARCHIVER_REFRESH_MAX_AGE": "40000d"})
    with store.session() as session:
        runner.plan_unplanned(session, datetime.now(UTC))
    store.close()
    status = cli("status")
    assert "new_years_snowy.html (posted 2006-01-12)" in status.out, status.out
    mirror = tmp_path / "mirror"
    assert cli("export", "html", "--out", str(mirror)).code == 0
    index = (mirror / "index.html").read_text(encoding="utf-8")
    assert '<td class="date"><time datetime="2006-01-12">January 12, 2006</time></td>' in index
