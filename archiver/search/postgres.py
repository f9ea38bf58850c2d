"""Search on PostgreSQL: the query compiled to a tsquery ('simple' configuration) matched against
the generated search_vector columns of comment and thread (weights: A author, B title, D body;
GIN-indexed by migration 0006_search), snippeted by ts_headline. Best first: where the RUM
indexes of migration 0009_search_rum exist, the index returns the matches in its rank order
(ORDER BY search_vector <=> q; score rum_ts_score), else every match is scored by ts_rank."""

from __future__ import annotations

import logging
import weakref

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from archiver.search import START, STOP
from archiver.search.dialect import SNIPPET_WORDS, Dialect, plain_snippet, plain_snippets
from archiver.search.query import Node, Or, Query, Term

# the weights (fields) a term is matched in: a phrase must lie within one of them
WEIGHTS = {"text": "BD", "author": "A"}
# a comment has no title (B): its text is its body alone, one phrase to look for, not two (half
# the work for a phrase in the index)
COMMENT_WEIGHTS = {"text": "D", "author": "A"}
HEADLINE = (f"StartSel={START}, StopSel={STOP}, MaxWords={SNIPPET_WORDS},"
            f" MinWords={SNIPPET_WORDS // 2}, ShortWord=0, MaxFragments=1,"
            " FragmentDelimiter=\" … \"")


def _lexeme(token: str, weights: str, prefix: bool) -> str:
    # tokens are runs of letters and digits (query.tokens_of): nothing to escape
    return f"'{token}':{'*' if prefix else ''}{weights}"


def _phrase(term: Term, weights: str) -> str:
    last = len(term.tokens) - 1
    return " <-> ".join(_lexeme(t, weights, term.prefix and i == last)
                        for i, t in enumerate(term.tokens))


def tsquery(node: Node, *, weighted: bool = True, fields: dict[str, str] = WEIGHTS) -> str:
    """The tsquery text for node (to_tsquery syntax). A phrase of several words is matched in one
    field at a time (FTS5 does not match a phrase across columns either)."""
    if isinstance(node, Term):
        weights = fields[node.field] if weighted else ""
        if len(node.tokens) == 1 or len(weights) <= 1:
            return "(" + _phrase(node, weights) + ")"
        return "(" + " | ".join(f"({_phrase(node, w)})" for w in weights) + ")"
    if isinstance(node, Or):
        return "(" + " | ".join(tsquery(item, weighted=weighted, fields=fields)
                                for item in node.items) + ")"
    parts = [tsquery(item, weighted=weighted, fields=fields) for item in node.items]
    parts += [f"!{tsquery(item, weighted=weighted, fields=fields)}" for item in node.negated]
    return "(" + " & ".join(parts) + ")"


def _headline(column: str, query: Query) -> str:
    words = query.terms("text")
    if not words:  # author:NAME alone: the text's start
        return plain_snippet(column)
    # the parser takes <word ...> for a tag and leaves it out: shown text keeps it (chr(1) is
    # turned back into '<' by the engine)
    return (f"ts_headline('simple'::regconfig, replace({column}, '<', chr(1)),"
            f" to_tsquery('simple'::regconfig, :headline_query), :headline_options)")


def _headlines(table: str, query: Query) -> str:
    return f"SELECT id, {_headline('body_text', query)} FROM {table} WHERE id IN ({{ids}})"


def headline_query(query: Query) -> str:
    return " | ".join(tsquery(term, weighted=False) for term in query.terms("text"))


# the RUM index of each table searched (migration 0009_search_rum makes them)
RUM_INDEXES = {"comment": "ix_comment_search_rum", "thread": "ix_thread_search_rum"}
log = logging.getLogger("archiver.search")
_has_rum: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def _rum_indexes_present(session: Session) -> bool:
    count = session.execute(text(
        "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " JOIN pg_am a ON a.oid = c.relam"
        " WHERE i.indexrelid IN (to_regclass(:comment), to_regclass(:thread))"
        " AND a.amname = 'rum' AND i.indisvalid"),
        {"comment": RUM_INDEXES["comment"], "thread": RUM_INDEXES["thread"]}).scalar_one()
    return int(count) == len(RUM_INDEXES)


def has_rum(session: Session) -> bool:
    """Whether both RUM indexes exist: asked once per engine (a Store), then remembered."""
    engine = session.get_bind().engine
    found = _has_rum.get(engine)
    if found is None:
        found = _has_rum[engine] = _rum_indexes_present(session)
        if not found:
            log.info("no RUM index: best-match search ranks every match with ts_rank")
    return found


def dialect(query: Query, *, rum: bool = False) -> Dialect:
    """The query's SQL; rum: best first read in the RUM indexes' order (has_rum says)."""
    if query.expr is None:  # site:NAME alone: every post and comment of the site
        return Dialect(
            name="postgresql", comment_from="comment c", comment_where="", comment_score="0.0",
            comment_snippets=plain_snippets("comment"), post_from="thread t", post_where="",
            post_score="0.0", post_snippets=plain_snippets("thread"),
        )
    match = "to_tsquery('simple'::regconfig, :match) AS q"
    comment_match = "to_tsquery('simple'::regconfig, :comment_match) AS q"
    params = {"match": tsquery(query.expr),
              "comment_match": tsquery(query.expr, fields=COMMENT_WEIGHTS)}
    if query.terms("text"):
        params.update(headline_query=headline_query(query), headline_options=HEADLINE)
    return Dialect(
        name="postgresql",
        comment_from=f"comment c CROSS JOIN {comment_match}",
        comment_where="c.search_vector @@ q",
        comment_score=("rum_ts_score(c.search_vector, q)" if rum
                       else "ts_rank(c.search_vector, q, 1)"),
        comment_snippets=_headlines("comment", query),
        post_from=f"thread t CROSS JOIN {match}",
        post_where="t.search_vector @@ q",
        post_score=("rum_ts_score(t.search_vector, q)" if rum
                    else "ts_rank(t.search_vector, q, 1)"),
        post_snippets=_headlines("thread", query),
        params=params,
        comment_order="c.search_vector <=> q" if rum else "",
        post_order="t.search_vector <=> q" if rum else "",
    )


def enable_rum(session: Session) -> bool:
    """Create the rum extension and the RUM indexes where missing, when the server has the
    extension and the user may create it (else False, the reason logged)."""
    if not session.execute(text(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")).scalar():
        log.warning("PostgreSQL has no rum extension (the server's rum package): best-match"
                    " search ranks every match with ts_rank")
        return False
    try:
        with session.begin_nested():
            session.execute(text("CREATE EXTENSION IF NOT EXISTS rum"))
    except DBAPIError as exc:
        log.warning("cannot create the rum extension (%s): best-match search ranks every match"
                    " with ts_rank", str(exc.orig).strip().splitlines()[0])
        return False
    for table, index in RUM_INDEXES.items():
        session.execute(text(f"CREATE INDEX IF NOT EXISTS {index} ON {table}"
                             f" USING rum (search_vector rum_tsvector_ops)"))
    return True


def reindex(session: Session) -> None:
    """The vectors are generated columns, always current: rebuild their GIN indexes, and the
    RUM indexes (made first if the extension can be had now)."""
    indexes = ["ix_comment_search_vector", "ix_thread_search_vector"]
    present = _rum_indexes_present(session)
    if present or enable_rum(session):
        if present:
            indexes += RUM_INDEXES.values()
        _has_rum.pop(session.get_bind().engine, None)  # asked again by the next search
    for index in indexes:
        session.execute(text(f"REINDEX INDEX {index}"))
