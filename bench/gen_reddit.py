"""A synthetic Reddit post with a large, deep comment tree, served on 127.0.0.1 as Reddit's OAuth
API serves one (the answers' shape: Reddit's JSON of 2020, as in fixtures/reddit/).

The tree is made from a seed: each new comment answers the one made just before it (a chain
deepening) or any earlier one, or the post. The server renders it as Reddit does: /comments/ID
with the first SHOWN replies of each comment and SHOWN_TOP top-level comments, the rest of each
list as one "more" object (its ids), a comment at depth 9 with replies ends in a "continue this
thread" stub; /api/morechildren?children=... answers with the comments asked for and what is
under them, flat (the same rules below them); /comments/ID/_/C is the tree under C;
/api/v1/access_token (POST) gives a token. ``Tree.grow`` adds comments for a refresh.

    python bench/gen_reddit.py 5000   (serve one until Ctrl-C)
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LINK = "zz5000"
SUBREDDIT = "synthetic"
SHOWN = 5  # replies of a comment shown before the rest is collapsed into a "more"
SHOWN_TOP = 50  # top-level comments shown with the post
CUT = 10  # depth (from the answer's root) at which "continue this thread" stubs stand
WORDS = ("tide harbour lantern gull rope anchor keel mast sail drift fog buoy pier chart "
         "beacon current swell ebb flood reef").split()


def id36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return "c" + text


@dataclass
class Tree:
    """The post's comments: id -> (parent id or None, author, body, created), replies in order."""

    seed: int = 1
    shown: int = SHOWN  # replies of a comment shown before the rest is collapsed
    shown_top: int = SHOWN_TOP  # top-level comments shown with the post
    comments: dict[str, tuple[str | None, str, str, float]] = field(default_factory=dict)
    replies: dict[str | None, list[str]] = field(default_factory=dict)
    depth: dict[str, int] = field(default_factory=dict)
    last: str | None = None

    def grow(self, count: int) -> list[str]:
        """Add count comments (as people would: mostly answering the latest or any comment)."""
        rng = random.Random(self.seed * 1_000_003 + len(self.comments))
        made = []
        for _ in range(count):
            number = len(self.comments)
            roll = rng.random()
            if not self.comments or roll < 0.06:
                parent = None
            elif roll < 0.66 and self.last is not None:
                parent = self.last
            else:
                parent = rng.choice(list(self.comments)) if number < 64 else \
                    id36(rng.randrange(number))
            cid = id36(number)
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 40)))
            self.comments[cid] = (parent, f"user{rng.randrange(900)}", words,
                                  1_600_000_000.0 + number * 37)
            self.replies.setdefault(parent, []).append(cid)
            self.depth[cid] = 0 if parent is None else self.depth[parent] + 1
            self.last = cid
            made.append(cid)
        return made

    # -- Reddit's answers -----------------------------------------------------------------

    def _t1(self, cid: str, level: int, replies: Any) -> dict[str, Any]:  # noqa: ANN401
        parent, author, words, created = self.comments[cid]
        return {"kind": "t1", "data": {
            "id": cid, "name": f"t1_{cid}", "author": author, "link_id": f"t3_{LINK}",
            "parent_id": f"t1_{parent}" if parent else f"t3_{LINK}",
            "body": words, "body_html": f'<div class="md"><p>{words}</p>\n</div>',
            "created_utc": created, "depth": level, "score": 1, "edited": False,
            "permalink": f"/r/{SUBREDDIT}/comments/{LINK}/synthetic/{cid}/",
            "replies": replies}}

    def _more(self, parent: str | None, ids: list[str], level: int) -> dict[str, Any]:
        return {"kind": "more", "data": {
            "count": len(ids), "name": f"t1_{ids[0]}" if ids else "t1__",
            "id": ids[0] if ids else "_", "depth": level, "children": ids,
            "parent_id": f"t1_{parent}" if parent else f"t3_{LINK}"}}

    def _listing(self, things: list[Any]) -> dict[str, Any]:
        return {"kind": "Listing", "data": {"children": things, "after": None, "before": None}}

    def _nested(self, cid: str, level: int) -> dict[str, Any]:
        """A comment with its shown replies nested (iterative: trees can be deep)."""
        root = self._t1(cid, level, "")
        stack = [(root, cid, level)]
        while stack:
            node, at, lvl = stack.pop()
            kids = self.replies.get(at, [])
            if not kids:
                continue
            if lvl + 1 >= CUT:
                node["data"]["replies"] = self._listing([self._more(at, [], lvl + 1)])
                continue
            things: list[Any] = []
            for kid in kids[:self.shown]:
                child = self._t1(kid, lvl + 1, "")
                things.append(child)
                stack.append((child, kid, lvl + 1))
            if kids[self.shown:]:
                things.append(self._more(at, kids[self.shown:], lvl + 1))
            node["data"]["replies"] = self._listing(things)
        return root

    def post(self) -> dict[str, Any]:
        return {"kind": "t3", "data": {
            "id": LINK, "name": f"t3_{LINK}", "title": "A synthetic tree",
            "author": "op", "subreddit": SUBREDDIT, "is_self": True, "locked": False,
            "archived": False, "num_comments": len(self.comments),
            "selftext_html": '<div class="md"><p>The post.</p>\n</div>',
            "created_utc": 1_600_000_000.0 - 60, "url": "",
            "permalink": f"/r/{SUBREDDIT}/comments/{LINK}/synthetic/"}}

    def tree_answer(self, root: str | None = None) -> list[Any]:
        if root is None:
            top = self.replies.get(None, [])
            things = [self._nested(c, 0) for c in top[:self.shown_top]]
            if top[self.shown_top:]:
                things.append(self._more(None, top[self.shown_top:], 0))
        else:
            things = [self._nested(root, 0)]
        return [self._listing([self.post()]), self._listing(things)]

    def morechildren_answer(self, ids: list[str]) -> dict[str, Any]:
        """The comments asked for and what is under them, flat, depth first."""
        flat: list[Any] = []
        for cid in ids:
            if cid not in self.comments:
                continue
            # a stack of what comes next: a comment (id, levels below the one asked for) or a
            # ready "more" object, the shown replies' subtrees before their list's "more"
            stack: list[tuple[str, int] | dict[str, Any]] = [(cid, 0)]
            while stack:
                top = stack.pop()
                if isinstance(top, dict):
                    flat.append(top)
                    continue
                at, lvl = top
                flat.append(self._t1(at, self.depth[at], ""))
                kids = self.replies.get(at, [])
                if not kids:
                    continue
                if lvl + 1 >= CUT:
                    flat.append(self._more(at, [], self.depth[at] + 1))
                    continue
                if kids[self.shown:]:
                    stack.append(self._more(at, kids[self.shown:], self.depth[at] + 1))
                stack.extend((kid, lvl + 1) for kid in reversed(kids[:self.shown]))
        return {"json": {"errors": [], "data": {"things": flat}}}


def serve(tree: Tree, port: int = 0) -> tuple[ThreadingHTTPServer, str, list[str]]:
    """Start the stand-in on 127.0.0.1; returns the server, its base URL and the paths asked."""
    asked: list[str] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            token = {"access_token": "synthetic-token", "token_type": "bearer",
                     "expires_in": 3600, "scope": "*"}
            self._send(200, json.dumps(token).encode())

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            with lock:
                asked.append(self.path)
            path = parts.path.rstrip("/")
            if path == f"/comments/{LINK}":
                answer: Any = tree.tree_answer()
            elif path.startswith(f"/comments/{LINK}/_/"):
                root = path.rsplit("/", 1)[1]
                if root not in tree.comments:
                    return self._send(404, b'{"error": 404}')
                answer = tree.tree_answer(root)
            elif path == "/api/morechildren":
                ids = parse_qs(parts.query).get("children", [""])[0].split(",")
                answer = tree.morechildren_answer([i for i in ids if i])
            else:
                return self._send(404, b'{"error": 404}')
            self._send(200, json.dumps(answer).encode())

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, bound = server.server_address[:2]
    return server, f"http://{host}:{bound}", asked


def post_url() -> str:
    return f"https://www.reddit.com/r/{SUBREDDIT}/comments/{LINK}/synthetic/"


def archiver_env(base: str) -> dict[str, str]:
    """What an archiver run against the stand-in needs: the origin map and credentials."""
    return {"ARCHIVER_FETCH_ORIGIN_MAP": f"https://oauth.reddit.com={base} "
                                         f"https://www.reddit.com={base}",
            "ARCHIVER_REDDIT_CLIENT_ID": "synthetic-id",
            "ARCHIVER_REDDIT_CLIENT_SECRET": "synthetic-secret"}


if __name__ == "__main__":
    import sys
    import time

    made = Tree()
    made.grow(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
    httpd, base, _ = serve(made, 8765)
    print(f"{len(made.comments)} comments, deepest {max(made.depth.values())}: {base}")
    print(" ".join(f"{k}={v!r}" for k, v in archiver_env(base).items()), post_url())
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        httpd.shutdown()
