"""Issue 4, WACZ: the reference thread, archived twice, packaged as WACZ; `wacz validate` (from the
`wacz` package) accepts it, and its CDXJ index leads to the right records inside the zip."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

from archiver.devserver import FixtureServer, load_fixture
from tests.conftest import MOA, MOA_PATH
from tests.warc_checks import check_index, read_records

WACZ = str(Path(sys.executable).with_name("wacz"))


def test_reference_thread_as_wacz(moa_paged: FixtureServer, data_dir: Path, cli,
                                  tmp_path: Path) -> None:
    url = moa_paged.url(MOA_PATH)
    assert cli("archive", url).code == 0
    assert cli("archive", url).code == 0
    out = tmp_path / "moa.wacz"
    result = cli("export", "wacz", url, "-o", str(out))
    assert result.code == 0, result.err
    assert "3 page(s)" in result.out

    proc = subprocess.run([WACZ, "validate", "-f", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Validation succeeded" in proc.stdout

    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert set(names) == {"archive/data.warc.gz", "indexes/index.cdx", "pages/pages.jsonl",
                              "datapackage.json", "datapackage-digest.json"}
        for info in zf.infolist():  # stored, so replay tools can seek to a record
            assert info.compress_type == zipfile.ZIP_STORED
        package = json.loads(zf.read("datapackage.json"))
        assert package["wacz_version"] == "1.1.1" and package["profile"] == "data-package"
        for resource in package["resources"]:
            data = zf.read(resource["path"])
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
            assert resource["bytes"] == len(data)
        digest = json.loads(zf.read("datapackage-digest.json"))
        assert digest["hash"] == "sha256:" + hashlib.sha256(zf.read("datapackage.json")).hexdigest()

        pages = [json.loads(line) for line in zf.read("pages/pages.jsonl").splitlines()]
        assert pages[0] == {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
        page_urls = [p["url"] for p in pages[1:]]
        assert page_urls == [
            url,
            moa_paged.url(MOA_PATH.removesuffix(".html") + "/comments/page/2/"),
            moa_paged.url(MOA_PATH.removesuffix(".html") + "/comments/page/3/"),
        ]
        assert all(p["ts"].endswith("Z") and p["title"] for p in pages[1:])

        # every record's block and payload digests are those of its bytes (wacz validate does
        # not check them), and every index line leads to the record it describes
        records = read_records(zf.read("archive/data.warc.gz"))
        lines = zf.read("indexes/index.cdx").decode().splitlines()
        assert lines == sorted(lines)
        entries = check_index(lines, records, "data.warc.gz")
    kinds: dict[str, list[str]] = {}
    for entry in entries:
        kinds.setdefault(entry["url"], []).append(entry["mime"])
    for page_url in page_urls:
        assert sorted(kinds[page_url]) == ["text/html", "warc/revisit"]
    assert [r.rec_type for r in records if r.header("WARC-Target-URI") == url] == [
        "response", "request", "revisit", "request"]
    assert kinds[f"urn:archiver:thread:{url}"] == ["application/json"]
    # each response carries the bytes stored for that URL, exactly
    stored = set(sqlite_rows(data_dir / "archiver.db", "select url, body_sha256 from capture"))
    responses = [r for r in records if r.rec_type == "response"]
    assert len(responses) == 3  # the three pages (a second archive: identical, so revisits)
    for record in responses:
        pair = (record.header("WARC-Target-URI"), hashlib.sha256(record.payload).hexdigest())
        assert pair in stored


def sqlite_rows(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_wacz_errors_are_one_line(data_dir: Path, cli, tmp_path: Path) -> None:
    from archiver.store.db import Store, default_database_url

    Store(default_database_url(data_dir)).close()  # an empty store (none at all: another error)
    result = cli("export", "wacz", "-o", str(tmp_path / "x.wacz"))
    assert result.code == 2
    assert "nothing to export" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "x.wacz").exists()


def test_not_modified_stays_in_the_warc_but_out_of_the_index(data_dir: Path, cli,
                                                             tmp_path: Path) -> None:
    origin, routes = load_fixture(MOA / "one-page")
    routes[MOA_PATH].headers["ETag"] = '"v1"'
    with FixtureServer(routes, origin=origin) as server:
        url = server.url(MOA_PATH)
        assert cli("archive", url).code == 0
        assert "1 unchanged" in cli("archive", url).out
    out = tmp_path / "etag.wacz"
    assert cli("export", "wacz", "-o", str(out)).code == 0
    proc = subprocess.run([WACZ, "validate", "-f", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with zipfile.ZipFile(out) as zf:
        records = read_records(zf.read("archive/data.warc.gz"))
        types = [r.rec_type for r in records
                 if not (r.header("WARC-Target-URI") or "").endswith("/robots.txt")]
        assert types.count("revisit") == 1 and types.count("response") == 1
        lines = check_index(zf.read("indexes/index.cdx").decode().splitlines(), records,
                            "data.warc.gz")
    (not_modified,) = [r for r in records if r.rec_type == "revisit"
                       and r.header("WARC-Target-URI") == url]
    assert not_modified.http is not None and not_modified.http.get_statuscode() == "304"
    page_lines = [line for line in lines if line["url"] == url]
    assert [(line["mime"], line["status"]) for line in page_lines] == [("text/html", "200")]
