"""Search on SQLite: the query compiled to an FTS5 MATCH expression over search_comment (body_text,
author_name; content: comment) and search_post (title, body_text, author; content: thread), the
external-content tables migration 0006_search made, scored by bm25, snippeted by snippet()."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from archiver.search import START, STOP
from archiver.search.dialect import SNIPPET_WORDS, Dialect, plain_snippets
from archiver.search.query import And, Node, Or, Query, Term

# the columns a field is matched in, per table
COMMENT_COLUMNS = {"text": "body_text", "author": "author_name"}
POST_COLUMNS = {"text": "title body_text", "author": "author"}
# bm25 weights per column, in the tables' column order: the body counts most, a title more
COMMENT_WEIGHTS = "1.0, 0.5"
POST_WEIGHTS = "2.0, 1.0, 0.5"
MMAP_BYTES = 1 << 30  # read the database through a memory map (up to 1 GiB of it)


def match(node: Node, columns: dict[str, str]) -> str:
    """The FTS5 expression for node: every token quoted, each term limited to its columns."""
    if isinstance(node, Term):
        phrase = '"' + " ".join(node.tokens) + '"' + (" *" if node.prefix else "")
        return f"{{{columns[node.field]}}} : {phrase}"
    if isinstance(node, Or):
        return "(" + " OR ".join(match(item, columns) for item in node.items) + ")"
    positive = "(" + " AND ".join(match(item, columns) for item in node.items) + ")"
    if not node.negated:
        return positive
    return f"({positive} NOT ({' OR '.join(match(n, columns) for n in node.negated)}))"


def has_prefix(node: Node) -> bool:
    """Whether any term of node (negated ones too) is a prefix (word*)."""
    if isinstance(node, Term):
        return node.prefix
    items = node.items + (node.negated if isinstance(node, And) else ())
    return any(has_prefix(item) for item in items)


def _snippets(table: str, column: int, param: str, prefix: bool) -> str:
    """Snippets of the rows {ids}, read from the FTS5 table alone by rowid (joined to its
    content table, FTS5 would walk every match of the query for each row).

    Each rowid of an IN list is a lookup of its own in FTS5, and a prefix term is expanded
    (every word it begins, merged) at each lookup: for a query with one, the rows {lo}..{hi}
    are walked once instead, the IN list kept out of FTS5's hands (+rowid) so that it only
    picks the rows (`khie*`, 35,810 matches: 96 ms -> 8 ms for a page of 20 snippets)."""
    marks = f"char({ord(START)}), char({ord(STOP)})"
    head = (f"SELECT rowid, snippet({table}, {column}, {marks}, '…', {SNIPPET_WORDS})"
            f" FROM {table} WHERE")
    if prefix:
        return (f"{head} {table} MATCH :{param} AND rowid >= {{lo}} AND rowid <= {{hi}}"
                f" AND +rowid IN ({{ids}})")
    return f"{head} rowid IN ({{ids}}) AND {table} MATCH :{param}"


def _ranked(table: str, weights: str, param: str) -> str:
    """The best :cap matches by bm25, from the FTS5 table alone (no row of the content table
    read): ranking all matches there costs about half of ranking them joined."""
    return (f"SELECT rowid AS rid, -bm25({table}, {weights}) AS score FROM {table}"
            f" WHERE {table} MATCH :{param} ORDER BY score DESC, rowid DESC LIMIT :cap")


def dialect(query: Query) -> Dialect:
    if query.expr is None:  # site:NAME alone: every post and comment of the site
        return Dialect(
            name="sqlite", comment_from="comment c", comment_where="", comment_score="0.0",
            comment_snippets=plain_snippets("comment"), post_from="thread t", post_where="",
            post_score="0.0", post_snippets=plain_snippets("thread"),
        )
    prefix = has_prefix(query.expr)
    return Dialect(
        name="sqlite",
        comment_from="search_comment JOIN comment c ON c.id = search_comment.rowid",
        comment_where="search_comment MATCH :comment_match",
        comment_score=f"-bm25(search_comment, {COMMENT_WEIGHTS})",
        comment_snippets=_snippets("search_comment", 0, "comment_match", prefix),
        post_from="search_post JOIN thread t ON t.id = search_post.rowid",
        post_where="search_post MATCH :post_match",
        post_score=f"-bm25(search_post, {POST_WEIGHTS})",
        post_snippets=_snippets("search_post", 1, "post_match", prefix),
        params={"comment_match": match(query.expr, COMMENT_COLUMNS),
                "post_match": match(query.expr, POST_COLUMNS)},
        comment_ranked=_ranked("search_comment", COMMENT_WEIGHTS, "comment_match"),
        post_ranked=_ranked("search_post", POST_WEIGHTS, "post_match"),
    )


def reindex(session: Session) -> None:
    """Rebuild both FTS5 tables from their content tables, then merge their segments."""
    for table in ("search_comment", "search_post"):
        session.execute(text(f"INSERT INTO {table}({table}) VALUES ('rebuild')"))
        session.execute(text(f"INSERT INTO {table}({table}) VALUES ('optimize')"))
