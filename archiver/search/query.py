"""The search query language, parsed into a small AST that each database compiles its own way
(sqlite.py: an FTS5 MATCH string; postgres.py: a tsquery).

    words           every word must appear (AND); `AND` may be written, it changes nothing
    "a phrase"      the words next to each other, in that order
    prefix*         any word starting so (at least 2 letters before the *)
    a OR b          either (binds looser than AND); parentheses group: (a OR b) c
    -word, -"a b"   not containing it (only beside something that must appear)
    author:NAME     the author's name holds NAME (a word, prefix* or "quoted phrase")
    site:NAME       only that site (its name, title or host); top level only

Words are matched case-insensitively, as the database's index splits them: runs of letters and
digits (`well-known` is the phrase "well known", `don't` is "don t"). Anything else is a
UsageError with one line saying what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from archiver.errors import UsageError

Field = Literal["text", "author"]

# what the FTS5 unicode61 tokenizer keeps as a token: runs of letters and digits
_TOKEN = re.compile(r"[^\W_]+")
MIN_PREFIX = 2  # a shorter prefix would match most of the index


@dataclass(frozen=True, slots=True)
class Term:
    """Words that must appear next to each other, in order (one word: just that word) in one
    field; prefix: the last word may go on."""

    tokens: tuple[str, ...]
    field: Field = "text"
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]
    negated: tuple[Node, ...] = ()  # none of these may appear


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


Node = Term | And | Or


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: what the text must match (None: no condition on the text, e.g. a bare
    site:NAME) and the sites it is limited to (any of them)."""

    expr: Node | None
    sites: tuple[str, ...] = ()

    def terms(self, field: Field | None = None) -> list[Term]:
        """Every positive term (in a negation's scope or not: only the positive ones), in order;
        only those of one field if given."""
        found: list[Term] = []

        def walk(node: Node | None) -> None:
            if isinstance(node, Term):
                if field is None or node.field == field:
                    found.append(node)
            elif isinstance(node, And | Or):
                for item in node.items:
                    walk(item)

        walk(self.expr)
        return found


def tokens_of(text: str) -> tuple[str, ...]:
    """The words of text as the index sees them, lower-cased."""
    return tuple(t.lower() for t in _TOKEN.findall(text))


# --- lexer -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Lex:
    kind: Literal["word", "phrase", "or", "and", "open", "close"]
    text: str = ""
    field: str = ""  # author / site, or "" for plain text
    prefix: bool = False
    negated: bool = False


_SITE_WITH_OR = ("site:NAME limits the whole query: with OR, group the rest in parentheses, "
                 "as in site:NAME (a OR b)")


def _lex(source: str) -> list[_Lex]:
    out: list[_Lex] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "(":
            out.append(_Lex("open"))
            i += 1
            continue
        if ch == ")":
            out.append(_Lex("close"))
            i += 1
            continue
        negated = False
        if ch == "-" and i + 1 < n and not source[i + 1].isspace():
            negated = True
            i += 1
        field = ""
        match = re.match(r"(author|site):", source[i:], re.IGNORECASE)
        if match:
            field = match.group(1).lower()
            i += match.end()
            if i >= n or source[i].isspace() or source[i] in "()":
                raise UsageError(f"{field}: needs a value, as in {field}:NAME or "
                                 f'{field}:"two words"')
        if i < n and source[i] == '"':
            end = source.find('"', i + 1)
            if end < 0:
                raise UsageError('unbalanced quote: a phrase is written "like this"')
            text = source[i + 1:end]
            i = end + 1
            prefix = i < n and source[i] == "*"
            i += prefix
            out.append(_Lex("phrase", text, field, prefix, negated))
            continue
        start = i
        while i < n and not source[i].isspace() and source[i] not in '()"':
            i += 1
        text = source[start:i]
        if not text:  # a lone '-' before a parenthesis or quote handled above; here: '-('
            raise UsageError("'-' excludes a word or a \"phrase\", not a group")
        if text in ("OR", "AND") and not field and not negated:
            out.append(_Lex(text.lower()))  # type: ignore[arg-type]
            continue
        prefix = text.endswith("*")
        out.append(_Lex("word", text.rstrip("*") if prefix else text, field, prefix, negated))
    return out


# --- parser ------------------------------------------------------------------------------------

class _Parser:
    def __init__(self, lexes: list[_Lex]) -> None:
        self.lexes = lexes
        self.pos = 0
        self.depth = 0
        self.sites: list[str] = []

    def peek(self) -> _Lex | None:
        return self.lexes[self.pos] if self.pos < len(self.lexes) else None

    def parse(self) -> Node | None:
        node = self.or_expr()
        if self.peek() is not None:  # only a stray ')' stops or_expr early
            raise UsageError("unbalanced parenthesis: ')' without '('")
        return node

    def or_expr(self) -> Node | None:
        items = [self.and_expr()]
        while (lex := self.peek()) is not None and lex.kind == "or":
            self.pos += 1
            items.append(self.and_expr())
        if len(items) == 1:
            return items[0]
        if self.sites:
            raise UsageError(_SITE_WITH_OR)
        if any(item is None for item in items):
            raise UsageError("OR needs something to search for on both sides")
        return Or(tuple(item for item in items if item is not None))

    def and_expr(self) -> Node | None:
        items: list[Node] = []
        negated: list[Node] = []
        while (lex := self.peek()) is not None and lex.kind not in ("or", "close"):
            self.pos += 1
            if lex.kind == "and":
                after = self.peek()
                if not (items or negated) or after is None or after.kind in ("or", "close", "and"):
                    raise UsageError("AND needs something to search for on both sides")
                continue
            if lex.kind == "open":
                self.depth += 1
                inner = self.or_expr()
                closing = self.peek()
                if closing is None or closing.kind != "close":
                    raise UsageError("unbalanced parenthesis: '(' without ')'")
                self.pos += 1
                self.depth -= 1
                if inner is None:
                    raise UsageError("empty parentheses: put something to search for inside")
                items.append(inner)
                continue
            if lex.field == "site":
                if lex.negated or self.depth:
                    raise UsageError("site:NAME limits the whole query: use it outside OR, "
                                     "parentheses and '-'")
                if not lex.text.strip():
                    raise UsageError('site: needs a name, as in site:NAME or site:"two words"')
                self.sites.append(lex.text.strip())
                continue
            term = self.term(lex)
            if term is None:
                continue
            (negated if lex.negated else items).append(term)
        if negated and not items:
            raise UsageError("'-' excludes words from what the rest of the query finds: "
                             "give something to search for too")
        if not items:
            return None
        if len(items) == 1 and not negated:
            return items[0]
        return And(tuple(items), tuple(negated))

    @staticmethod
    def term(lex: _Lex) -> Term | None:
        tokens = tokens_of(lex.text)
        field: Field = "author" if lex.field == "author" else "text"
        if not tokens:
            if lex.field:
                raise UsageError(f"{lex.field}:{lex.text} has no letters or digits to match")
            if lex.kind == "phrase" and lex.text.strip():
                raise UsageError(f'"{lex.text}" has no letters or digits to search for')
            return None  # punctuation on its own ("-", "&"): nothing the index holds
        if lex.prefix and len(tokens[-1]) < MIN_PREFIX:
            raise UsageError(f"{lex.text}*: a prefix needs at least {MIN_PREFIX} letters")
        return Term(tokens, field, lex.prefix)


def parse(source: str) -> Query:
    """The query as an AST; UsageError (one line) when it cannot be read or asks for nothing."""
    if not source.strip():
        raise UsageError("the search query is empty: give a word, a \"phrase\" or author:NAME")
    parser = _Parser(_lex(source))
    expr = parser.parse()
    if expr is None and not parser.sites:
        raise UsageError(f"nothing to search for in {source!r}: give a word (letters or digits), "
                         "a \"phrase\" or author:NAME")
    return Query(expr, tuple(parser.sites))
