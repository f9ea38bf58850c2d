"""Issue 4, JSON Lines and selections: one object per thread with comments and edit history, in the
schema documented in docs/export-schema.md; --site, --since, URL and everything; text for a
selection (one file per thread); clear errors for selections that match nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

from archiver.devserver import FixtureServer, load_fixture
from tests.conftest import MOA, MOA_PATH, REFERENCE, ROOT, normalise

SCHEMA_DOC = ROOT / "docs" / "export-schema.md"
EDITED_ID = "6a00d8341c640e53ef9d9f976f0009200d"
REMOVED_ID = "6a00d8341c640e53ef03571b487d38200c"


def test_reference_thread_as_jsonl(moa_paged: FixtureServer, data_dir: Path, cli,
                                   tmp_path: Path) -> None:
    url = moa_paged.url(MOA_PATH)
    assert cli("archive", url).code == 0
    out = tmp_path / "threads.jsonl"
    result = cli("export", "jsonl", url, "-o", str(out))
    assert result.code == 0, result.err
    assert "1 thread(s), 40 comment(s)" in result.out
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    thread = json.loads(lines[0])
    assert thread["schema"] == "archiver.thread" and thread["schema_version"] == 1
    assert thread["url"] == url
    assert thread["title"] == "Syria - Is The ISIS Attack On Abu Kamal Part Of A U.S. Plan?"
    assert thread["site"]["title"] == "Moon of Alabama" and thread["site"]["origin"] == \
        moa_paged.base_url
    assert thread["published_at"] == "2018-06-08T18:39:00Z"
    assert thread["comments_closed"] is True and thread["pages"] == 3
    assert thread["comment_count"] == 40
    comments = thread["comments"]
    assert [c["number"] for c in comments] == list(range(1, 41))
    assert [c["position"] for c in comments] == list(range(1, 41))
    first = comments[0]
    assert first["author_name"] == "jayc" and first["author_url"] == "https://jayc.example.org"
    assert first["published_text"] == "Jun 8 2018 18:52 utc"
    assert first["published_at"] == "2018-06-08T18:52:00Z"
    assert first["body_text"].startswith("A month or two ago senior US officials")
    assert "<p>A month or two ago" in first["body_html"]
    assert first["version"] == 1 and first["history"] == []
    assert first["removed"] is False and first["removed_at"] is None
    assert all(c["page_url"].startswith(moa_paged.base_url) for c in comments)
    # the comment text is the one the reference dump shows
    reference = normalise(REFERENCE.read_text(encoding="utf-8"))
    for comment in comments:
        assert normalise(comment["body_text"]).strip() in reference

    stdout = cli("export", "jsonl", url, "-o", "-")
    assert stdout.code == 0
    assert json.loads(stdout.out) == thread | {"comments": thread["comments"]}


def test_edit_history_and_removal(data_dir: Path, cli, tmp_path: Path) -> None:
    origin, routes = load_fixture(MOA / "one-page")
    with FixtureServer(routes, origin=origin) as server:
        url = server.url(MOA_PATH)
        assert cli("archive", url).code == 0
        html = routes[MOA_PATH].body.decode("utf-8")
        html = html.replace("Russian bombers from RF and Iran", "EDITED: Russian bombers")
        gone = re.search(
            rf'<div class="comment font-entrybody" id="comment-{REMOVED_ID}">.*?</p>\s*</div>',
            html, re.S)
        assert gone is not None
        server.set_page(MOA_PATH, html.replace(gone.group(0), ""))
        result = cli("archive", url)
        assert result.code == 0 and "1 edited, 1 removed" in result.out
    out = tmp_path / "t.jsonl"
    assert cli("export", "jsonl", "-o", str(out)).code == 0
    thread = json.loads(out.read_text(encoding="utf-8"))
    assert thread["comment_count"] == 39 and len(thread["comments"]) == 40
    by_id = {c["source_id"]: c for c in thread["comments"]}
    edited = by_id[EDITED_ID]
    assert edited["version"] == 2
    assert edited["body_text"].startswith("EDITED: Russian bombers")
    assert len(edited["history"]) == 1
    old = edited["history"][0]
    assert old["version"] == 1 and old["body_text"].startswith("Russian bombers from RF and Iran")
    assert old["replaced_at"] == edited["changed_at"]
    assert old["first_seen_at"] == edited["first_seen_at"]
    removed = by_id[REMOVED_ID]
    assert removed["removed"] is True and removed["removed_at"].endswith("Z")
    assert removed["body_text"]  # never deleted: the text is still there
    assert sum(c["removed"] for c in thread["comments"]) == 1

    documented = set(re.findall(r"^\| `([a-z0-9_.\[\]]+)`", SCHEMA_DOC.read_text(encoding="utf-8"),
                                re.M))
    for key in thread:
        assert key in documented, f"thread field {key} not in {SCHEMA_DOC.name}"
    for key in thread["site"]:
        assert f"site.{key}" in documented, f"site field {key} not documented"
    for key in edited:
        assert f"comments[].{key}" in documented, f"comment field {key} not documented"
    for key in old:
        assert f"comments[].history[].{key}" in documented, f"history field {key}"
    assert thread["post_history"] == []


def test_an_edited_post_keeps_its_earlier_version(data_dir: Path, cli, tmp_path: Path) -> None:
    origin, routes = load_fixture(MOA / "one-page")
    before = "A new ISIS attack on Syrian government forces today"
    with FixtureServer(routes, origin=origin) as server:
        url = server.url(MOA_PATH)
        assert cli("archive", url).code == 0
        html = routes[MOA_PATH].body.decode("utf-8")
        assert html.count(before) == 1
        server.set_page(MOA_PATH, html.replace(before, "UPDATE: a new ISIS attack today"))
        result = cli("archive", url)
        assert result.code == 0 and "0 edited, 0 removed" in result.out
        assert cli("archive", url).code == 0  # unchanged again: no further version
    out = tmp_path / "t.jsonl"
    assert cli("export", "jsonl", "-o", str(out)).code == 0
    thread = json.loads(out.read_text(encoding="utf-8"))
    assert "UPDATE: a new ISIS attack today" in thread["body_text"]
    (old,) = thread["post_history"]
    assert old["version"] == 1 and before in old["body_text"] and before in old["body_html"]
    assert old["title"] == thread["title"] and old["replaced_at"] == thread["last_change_at"]
    documented = set(re.findall(r"^\| `([a-z0-9_.\[\]]+)`",
                                SCHEMA_DOC.read_text(encoding="utf-8"), re.M))
    for key in old:
        assert f"post_history[].{key}" in documented, f"post history field {key}"


def test_selections_and_text_per_thread(moa_one_page: FixtureServer, moa_paged: FixtureServer,
                                        data_dir: Path, cli, tmp_path: Path) -> None:
    one, paged = moa_one_page.url(MOA_PATH), moa_paged.url(MOA_PATH)
    assert cli("archive", one).code == 0
    assert cli("archive", paged).code == 0

    def urls(*args: str) -> list[str]:
        result = cli("export", "jsonl", *args, "-o", "-")
        assert result.code == 0, result.err
        return sorted(json.loads(line)["url"] for line in result.out.splitlines())

    assert urls() == sorted([one, paged])
    assert urls("--site", "Moon of Alabama") == sorted([one, paged])
    assert urls("--site", moa_one_page.base_url.removeprefix("http://")) == [one]
    assert urls("--site", "127.0.0.1") == sorted([one, paged])  # the host, whatever the port
    assert urls("--site", moa_paged.base_url) == [paged]
    assert urls(paged) == [paged]
    assert urls("--since", "2000-01-01") == sorted([one, paged])

    result = cli("export", "jsonl", "--since", "2999-12-31T23:00:00+02:00", "-o", "-")
    assert result.code == 2 and result.out == ""
    assert "nothing to export: no archived thread matches new or changed since" in result.err
    result = cli("export", "jsonl", one, "--site", moa_paged.base_url, "-o", "-")
    assert result.code == 2 and "nothing to export" in result.err
    result = cli("export", "jsonl", "--since", "last tuesday", "-o", "-")
    assert result.code == 2 and "is not a date" in result.err
    result = cli("export", "jsonl", "--site", "nowhere.example", "-o", "-")
    assert result.code == 2 and "no archived site is called 'nowhere.example'" in result.err
    for result in (cli("export", "text", "-o", "-"), cli("export", "text")):
        assert result.code == 2 and "FOLDER" in result.err
        assert len(result.err.strip().splitlines()) == 1

    folder = tmp_path / "texts"
    result = cli("export", "text", "--site", "Moon of Alabama", "-o", str(folder))
    assert result.code == 0, result.err
    assert "2 thread(s) as text" in result.out
    files = sorted(folder.rglob("*.txt"))
    assert len(files) == 2 and len({f.parent for f in files}) == 2  # one folder per site
    expected = normalise(REFERENCE.read_text(encoding="utf-8"))
    for file in files:
        assert normalise(file.read_text(encoding="utf-8")) == expected
    again = cli("export", "text", "-o", str(folder))
    assert again.code == 0 and "(0 changed, 2 unchanged)" in again.out

    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cli("export", "jsonl", "-o", str(blocker / "t.jsonl"))
    assert result.code == 2 and result.err.startswith("error: cannot write")
    result = cli("export", "json", "-o", "-")
    assert result.code == 2 and "unknown export format 'json'" in result.err
    result = cli("export", "text", one, "--max-size", "1G")
    assert result.code == 2 and "--max-size applies only to warc and wacz" in result.err


def test_output_that_is_a_pipe_is_refused_and_a_symlink_is_followed(
    moa_one_page: FixtureServer, data_dir: Path, cli, tmp_path: Path
) -> None:
    import os
    import stat

    url = moa_one_page.url(MOA_PATH)
    assert cli("archive", url).code == 0
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for fmt in ("jsonl", "warc", "wacz", "text"):
        args = ["export", fmt, *([url] if fmt == "text" else []), "-o", str(fifo)]
        result = cli(*args)
        assert result.code == 2 and "not a regular file" in result.err, (fmt, result.err)
        assert stat.S_ISFIFO(fifo.stat().st_mode)  # left as it was
    target = tmp_path / "real" / "latest.jsonl"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "latest.jsonl"
    link.symlink_to(target)
    assert cli("export", "jsonl", "-o", str(link)).code == 0
    assert link.is_symlink() and json.loads(target.read_text(encoding="utf-8"))["url"] == url
    loop = tmp_path / "loop.jsonl"
    loop.symlink_to(loop)
    result = cli("export", "jsonl", "-o", str(loop))
    assert result.code == 2 and "cannot write" in result.err and "loop" in result.err.lower()
    dangling = tmp_path / "next.jsonl"
    dangling.symlink_to(tmp_path / "real" / "not-yet.jsonl")
    assert cli("export", "jsonl", "-o", str(dangling)).code == 0
    assert (tmp_path / "real" / "not-yet.jsonl").is_file() and dangling.is_symlink()
