"""The mirror's pictures: a thread's images held in the store written once into OUT/media/
(named by their content's sha256), and the img elements of archived HTML pointed at them."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser
from sqlmodel import Session, select

from archiver.export import output
from archiver.images import EXTENSIONS, chosen_source
from archiver.store import captures as captures_store
from archiver.store.models import Capture, Picture, Thread

MEDIA = "media"
# an img marked for a local file before nh3 sees it: an absolute URL nh3 keeps as it is, with
# a fresh nonce per fragment, so no archived text can name a marker of ours
_MARK = "https://archiver.invalid/picture/"


def write_media(session: Session, thread: Thread, folder: Path,
                written: output.Written | None = None) -> dict[str, str]:
    """The thread's pictures held in the store, each written (once) to folder/media/; returns
    image URL -> the file's path from a thread page (../media/NAME)."""
    shown: dict[str, str] = {}
    pictures = session.exec(select(Picture).where(Picture.thread_id == thread.id,
                                                  Picture.state == "ok")).all()
    for picture in pictures:
        capture = session.get(Capture, picture.capture_id) if picture.capture_id else None
        digest = capture.payload_sha256 if capture is not None else None
        extension = EXTENSIONS.get(picture.media_type)
        if capture is None or not digest or extension is None:
            continue
        name = f"{digest}.{extension}"
        path = output.inside(folder, MEDIA, name)
        if not path.is_file():  # named by its content: one there already is this one
            stored = captures_store.stored_result(session, capture.id)
            if stored is None:
                continue
            with output.atomic_binary(path, written) as out:
                out.write(stored[0].body)
        shown[picture.url] = f"../{MEDIA}/{name}"
    return shown


def mark(fragment: str, base_url: str, shown: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The fragment with each img whose picture is held pointed at a marker URL; returns the
    fragment and marker -> local file (nothing changes when no img is held)."""
    if not shown or "<img" not in fragment.lower():
        return fragment, {}
    tree = LexborHTMLParser(fragment)
    nonce, marks = secrets.token_hex(8), {}
    for number, node in enumerate(tree.css("img")):
        url = chosen_source(node, base_url)
        local = shown.get(url) if url is not None else None
        if local is None:
            continue
        marker = f"{_MARK}{nonce}/{number}"
        node.attrs["src"] = marker
        marks[marker] = local
    if not marks or tree.body is None:
        return fragment, {}
    return tree.body.inner_html or "", marks
