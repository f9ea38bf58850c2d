"""Reading an exported WARC back record by record: every block and payload digest recomputed from
the bytes, and every CDXJ index line checked against the record found at its offset."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zlib
from dataclasses import dataclass

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders


@dataclass
class Record:
    """One WARC record as stored: where its gzip member is, its headers, its raw block."""

    offset: int
    length: int  # of the gzip member holding it
    rec_type: str
    headers: StatusAndHeaders  # WARC headers
    http: StatusAndHeaders | None
    block: bytes  # the record block exactly as stored (HTTP head + payload for responses)

    def header(self, name: str) -> str | None:
        return self.headers.get_header(name)

    @property
    def payload(self) -> bytes:
        """The payload: the block after the HTTP head (response and request records)."""
        head_end = self.block.find(b"\r\n\r\n")
        assert head_end >= 0, self.header("WARC-Record-ID")
        return self.block[head_end + 4:]


def digest_matches(value: str | None, data: bytes) -> bool:
    """Whether a WARC digest value ("sha1:BASE32", "sha256:hex"...) is the digest of data."""
    if not value or ":" not in value:
        return False
    algorithm, _, encoded = value.partition(":")
    raw = hashlib.new(algorithm.lower(), data).digest()
    return encoded in (base64.b32encode(raw).decode("ascii"), raw.hex(), raw.hex().upper())


def gzip_members(data: bytes) -> list[tuple[int, int, bytes]]:
    """(offset, length, decompressed bytes) of each gzip member of a .warc.gz, in order."""
    members = []
    offset = 0
    while offset < len(data):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        raw = inflater.decompress(data[offset:]) + inflater.flush()
        assert inflater.eof, f"gzip member at {offset} is cut short"
        length = len(data) - offset - len(inflater.unused_data)
        members.append((offset, length, raw))
        offset += length
    return members


def read_records(data: bytes) -> list[Record]:
    """Every record of a .warc.gz, one record per gzip member (what index offsets rely on), with
    its block digest, its payload digest (responses, requests) and its revisit target's digest
    checked against the bytes."""
    records: list[Record] = []
    for offset, length, raw in gzip_members(data):
        (parsed,) = list(ArchiveIterator(io.BytesIO(raw)))  # exactly one record per member
        head_end = raw.index(b"\r\n\r\n") + 4
        size = int(parsed.rec_headers.get_header("Content-Length"))
        block = raw[head_end:head_end + size]
        assert len(block) == size and raw[head_end + size:] == b"\r\n\r\n", offset
        records.append(Record(offset, length, parsed.rec_type, parsed.rec_headers,
                              parsed.http_headers, block))
    by_id = {r.header("WARC-Record-ID"): r for r in records}
    for record in records:
        where = f"{record.rec_type} record at {record.offset} ({record.header('WARC-Target-URI')})"
        assert digest_matches(record.header("WARC-Block-Digest"), record.block), where
        if record.rec_type in ("response", "request"):
            declared = record.header("WARC-Payload-Digest")
            if record.rec_type == "response" or declared is not None:
                assert digest_matches(declared, record.payload), where
        if record.rec_type == "revisit":
            original = by_id.get(record.header("WARC-Refers-To"))
            assert original is not None and original.rec_type == "response", where
            assert original.header("WARC-Target-URI") == record.header("WARC-Target-URI")
            assert record.header("WARC-Refers-To-Date") in (None, original.header("WARC-Date"))
            assert digest_matches(record.header("WARC-Payload-Digest"), original.payload), where
        if record.rec_type == "request":
            target = by_id.get(record.header("WARC-Concurrent-To"))
            assert target is not None and target.rec_type in ("response", "revisit"), where
    return records


def check_index(lines: list[str], records: list[Record], filename: str) -> list[dict]:
    """Each CDXJ line leads to the record it describes: the gzip member at its offset has its
    length, its URL, its date, its status and its payload digest. Every response, revisit and
    metadata record is indexed once, except 304 revisits (left out on purpose). Returns the
    index entries."""
    by_offset = {r.offset: r for r in records}
    entries = []
    for line in lines:
        _key, timestamp, blob = line.split(" ", 2)
        entry = json.loads(blob)
        assert entry["filename"] == filename
        record = by_offset.get(int(entry["offset"]))
        assert record is not None, f"no record starts at offset {entry['offset']}: {line}"
        assert int(entry["length"]) == record.length, line
        assert entry["url"] == record.header("WARC-Target-URI"), line
        date = record.header("WARC-Date") or ""
        assert timestamp == "".join(ch for ch in date if ch.isdigit())[:14], line
        if record.rec_type == "response":
            assert digest_matches(entry["digest"], record.payload), line
        elif record.rec_type == "revisit":
            assert entry["digest"] == record.header("WARC-Payload-Digest"), line
            assert entry["mime"] == "warc/revisit", line
        else:
            assert record.rec_type == "metadata", line
            assert digest_matches(entry["digest"], record.block), line
        if record.http is not None:
            assert entry["status"] == record.http.get_statuscode(), line
        entries.append(entry)
    indexed = [int(e["offset"]) for e in entries]
    assert len(indexed) == len(set(indexed)), "a record is indexed twice"
    want = {
        r.offset for r in records
        if r.rec_type in ("response", "metadata")
        or (r.rec_type == "revisit" and r.http is not None and r.http.get_statuscode() != "304")
    }
    assert set(indexed) == want
    return entries
