"""Generate synthetic TypePad threads in the exact markup of the fixtures, deterministic by seed.

A thread of N comments over pages of P: page 1 is the post URL ``/YYYY/MM/slug.html``, page K
is ``/YYYY/MM/slug/comments/page/K/``. ``make_thread`` returns it in memory; ``write_thread``
writes a folder laid out like ``fixtures/typepad/...`` (files plus ``routes.json`` with its
``origin``) that ``archiver.devserver.serve_fixture`` serves as is.

Comment i depends only on the seed and i, so a thread of N+k comments is the thread of N with k
more at the end (what the refresh benchmark needs for "1% new comments").

    python bench/gen_thread.py OUT_DIR --comments 5000 --per-page 100 --seed 1
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from pathlib import Path

ORIGIN = "https://www.moonofalabama.org"
ID_PREFIX = "6a00d8341c640e53ef"  # the blog's asset-id prefix, as in the fixtures
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()

# --- text material --------------------------------------------------------------------------

_SENTENCES = (
    "The report leaves out the one detail that would explain the timing.",
    "Nobody in the mainstream press bothered to ask who profits from this.",
    "I read the whole transcript and the quote is taken badly out of context.",
    "It is the same pattern we saw two years ago, almost step for step.",
    "Logistics decide these things long before the first shot is fired.",
    "Follow the supply routes and the rest of the story writes itself.",
    "The official statement contradicts what the ministry said on Tuesday.",
    "Maps from last month show the front line has barely moved.",
    "That claim was repeated everywhere but nobody has produced a source for it.",
    "Thanks for the write-up, this is the clearest summary I have found anywhere.",
    "My guess is that the announcement is aimed at a domestic audience.",
    "The numbers do not add up unless you count the contractors as well.",
    "A ceasefire that nobody monitors is a ceasefire in name only.",
    "Oil prices jumped the moment the news broke, which tells you something.",
    "The satellite pictures were published three days after the event.",
    "Several local journalists reported the opposite, in Arabic, the same evening.",
    "One should not underestimate how tired the population is of all this.",
    "Either the briefing was wrong or the map was; they cannot both be right.",
    "History suggests these deals fall apart as soon as the cameras leave.",
    "The think-tank paper said as much in its conclusion last spring.",
    "If this is a plan, it is not a very well hidden one.",
    "Meanwhile the humanitarian situation keeps getting worse and nobody reports it.",
    "I would wait a week before drawing any conclusions from a single video.",
    "It is worth reading the original interview rather than the summaries of it.",
    "The border crossing matters more for trade than for anything military.",
    "Winter will change the calculation for everyone involved.",
    "They announced the same offensive twice already this year.",
    "Budget hearings next month will show who really supports the operation.",
    "Good catch on the dates; the second story was filed before the first happened.",
    "The refinery has been idle since the spring, according to the workers there.",
    "Every side has its own casualty figures and none of them agree.",
    "Some of the commenters here predicted exactly this in the last open thread.",
    "The real story is the pipeline, as usual.",
    "A quick look at the shipping data confirms the tankers never left port.",
    "That was a rhetorical question, I hope.",
    "The bridge was rebuilt last year with money from three different donors.",
)
_FOREIGN = (
    "Ça ne change rien à l'affaire, à mon avis.",
    "C'est déjà la troisième fois cette année, hélas.",
    "Die Lage ist völlig unübersichtlich, und niemand weiß, wer wen unterstützt.",
    "Größere Überraschungen erwarte ich nicht mehr.",
    "¿Quién se beneficia de todo esto? La respuesta es obvia.",
    "Это не первый раз, когда так происходит.",
    "Посмотрим, что скажут в Министерстве обороны завтра.",
    "Ο χρόνος θα δείξει.",
    "والله أعلم",
    "这只是开始。",
    "Smörgåsbord of excuses, as my Swedish neighbour would say: skärpning!",
    "Naïve café owners in Zürich and Kraków agree, it seems.",
)
_EMOJI = ("🤔", "👍", "😂", "🙄", "🔥", "🇸🇾", "✌️", "😉")
_LINK_HOSTS = (
    "https://www.reuters.example/world/middle-east/",
    "https://tass.example/armiya-i-opk/",
    "https://www.aljazeera.example/news/",
    "https://twitter.example/status/",
    "https://www.theguardian.example/world/",
    "https://southfront.example/",
    "https://www.spiegel.example/politik/ausland/",
    "https://ru.wikipedia.example/wiki/",
)
_QUOTES = (
    "The coalition remains committed to the lasting defeat of the group in the region.",
    "We have no information that would confirm these reports at this time.",
    "Forces were forced to withdraw from several positions after heavy shelling overnight.",
    "The talks will resume in Geneva next week, a spokesperson said.",
    "Officials said the convoy was carrying humanitarian supplies and fuel.",
    "Любые попытки изменить ситуацию силой обречены на провал.",
    "Les négociations reprendront après les élections, selon le ministère.",
)
_LIST_ITEMS = (
    "control of the crossing",
    "the oil fields east of the river",
    "the airbase and its runway",
    "supply lines from the south",
    "the electricity grid",
    "water from the dam",
    "local tribes and their loyalties",
    "the refugee camps",
)
_FIRST = (
    "james", "karlof1", "Jackrabbit", "Laguerre", "Peter AU 1", "ken", "worldblee", "alaff",
    "Red Ryder", "jayc", "Piotr Berman", "Grieved", "Pft", "somebody", "Bart Hansen", "Lozion",
    "psychohistorian", "Noirette", "Den Lille Abe", "Hoarsewhisperer", "Harry", "Formerly T-Bear",
    "José María", "François", "Zoë", "Jürgen W.", "Björn", "Дмитрий", "Наталья К.", "Ahmed",
    "Νίκος", "Sasha", "Kiza", "uncoy", "c1ue", "Musburger", "fast freddy", "Anon", "Ort",
    "NemesisCalling", "spudski", "Circe", "bevin", "Mina", "lysias", "Paul", "Debsisdead",
)

_LEXICON_WORDS = (
    "convoy", "crossing", "ceasefire", "briefing", "pipeline", "offensive", "province",
    "militia", "airbase", "analysts", "sanctions", "corridor", "reconstruction", "checkpoint",
)


def comment_id(seed: int, index: int) -> str:
    """A TypePad-like 34-character asset id, unique per (seed, index)."""
    mixed = (index * 0x9E3779B97F4A7C15 + seed * 0xC2B2AE3D27D4EB4F + 0x1234567) % (1 << 48)
    return f"{ID_PREFIX}{mixed:012x}200{'bcd'[(index + seed) % 3]}"


@dataclass(slots=True)
class SynthComment:
    """One generated comment: what the page shows, so a benchmark can check what it got."""

    source_id: str
    number: int
    author_name: str
    author_url: str | None
    published_text: str
    body_html: str  # the inner HTML of div.comment-content (a span wrapping the blocks)


@dataclass(slots=True)
class SyntheticThread:
    """A generated thread: its comments, and its pages as path -> HTML."""

    origin: str
    post_path: str
    title: str
    comments: list[SynthComment]
    pages: dict[str, str] = field(default_factory=dict)

    @property
    def page_paths(self) -> list[str]:
        return list(self.pages)

    def url(self, base: str | None = None) -> str:
        return (base or self.origin) + self.post_path


def _stamp(when: datetime) -> str:
    return f"{_MONTHS[when.month - 1]} {when.day} {when.year} {when.hour}:{when.minute:02d} utc"


def _sentence(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.12:
        text = escape(rng.choice(_FOREIGN), quote=False)
    else:
        text = escape(rng.choice(_SENTENCES), quote=False)
    if rng.random() < 0.06:
        text += " " + rng.choice(_EMOJI)
    if rng.random() < 0.05:
        text = text.replace(" ", "&nbsp;", 1)
    return text


def _inline(rng: random.Random, text: str) -> str:
    """Sometimes wrap a word in <i>/<b>/<em>, or follow the sentence with a link."""
    roll = rng.random()
    if roll < 0.08:
        word = rng.choice(_LEXICON_WORDS)
        tag = rng.choice(("i", "b", "em", "strong"))
        text = f"{text} The <{tag}>{word}</{tag}> is the point."
    elif roll < 0.22:
        host = rng.choice(_LINK_HOSTS)
        href = f"{host}{rng.randrange(10**6, 10**7)}"
        shown = href if rng.random() < 0.5 else rng.choice(("here", "source", "link", "this"))
        text = f'{text} See <a href="{escape(href)}" rel="nofollow">{escape(shown)}</a>.'
    return text


def _paragraph(rng: random.Random) -> str:
    count = rng.choice((1, 1, 2, 2, 3, 3, 4, 5))
    sentences = [_inline(rng, _sentence(rng)) for _ in range(count)]
    if count > 1 and rng.random() < 0.2:  # a line break inside the paragraph
        cut = rng.randrange(1, count)
        return "<p>" + " ".join(sentences[:cut]) + "<br />\n" + " ".join(sentences[cut:]) + "</p>"
    return "<p>" + " ".join(sentences) + "</p>"


def _blockquote(rng: random.Random) -> str:
    count = rng.choice((1, 1, 2))
    inner = "\n".join(
        f"<p>{escape(q, quote=False)}</p>" for q in rng.sample(_QUOTES, count)
    )
    return f"<blockquote>{inner}</blockquote>"


def _list(rng: random.Random) -> str:
    tag = "ol" if rng.random() < 0.3 else "ul"
    items = rng.sample(_LIST_ITEMS, rng.randrange(2, 5))
    inner = "\n".join(f"<li>{escape(item)}</li>" for item in items)
    return f"<{tag}>\n{inner}\n</{tag}>"


def _comment_body(rng: random.Random, cid: str, number: int) -> str:
    blocks: list[str] = []
    if number > 3 and rng.random() < 0.15:  # a reply to an earlier comment, TypePad style
        other = rng.randrange(1, number)
        blocks.append(f"<p>@{other} {escape(rng.choice(_FIRST))}</p>")
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):
        roll = rng.random()
        if roll < 0.12 and blocks:
            blocks.append(_blockquote(rng))
        elif roll < 0.17:
            blocks.append(_list(rng))
        else:
            blocks.append(_paragraph(rng))
    return f'<span id="comment-{cid}-content">' + "\n".join(blocks) + "</span>"


def _comment_html(c: SynthComment, post_url: str) -> str:
    if c.author_url:
        url = escape(c.author_url)
        author = (
            f'<a rel="nofollow" target="_blank" title="{url}" href="{url}">'
            f"{escape(c.author_name)}</a>"
        )
    else:
        author = escape(c.author_name)
    cid = c.source_id
    return (
        f'<a id="c{cid}"></a>\n'
        f'<div class="comment font-entrybody" id="comment-{cid}">\n'
        f'<div class="comment-content font-entrybody" id="comment-{cid}-content">\n'
        f"{c.body_html}\n"
        "</div>\n"
        '<p class="comment-footer font-entryfooter">\n'
        "Posted by:\n"
        f"{author} |\n"
        f'<a rel="nofollow" href="{post_url}?cid={cid}#comment-{cid}">{c.published_text}</a>'
        f" | {c.number}\n"
        "</p>\n"
        "</div>\n"
    )


def generate_comments(
    n: int, *, seed: int = 1, start: datetime | None = None
) -> list[SynthComment]:
    """N comments; comment i is the same whatever N is."""
    rng = random.Random(seed)
    when = start or datetime(2018, 6, 8, 18, 52)
    authors: list[tuple[str, str | None]] = []
    for name in _FIRST:
        slug = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum()) or "reader"
        authors.append((name, f"https://{slug}.example.org" if rng.random() < 0.35 else None))
    # a few regulars write most comments, as on any busy blog
    weights = [1.0 / (rank + 2) for rank in range(len(authors))]
    out: list[SynthComment] = []
    for index in range(n):
        number = index + 1
        cid = comment_id(seed, index)
        name, url = rng.choices(authors, weights)[0]
        body = _comment_body(rng, cid, number)
        when += timedelta(minutes=rng.randrange(1, 40))
        out.append(SynthComment(cid, number, name, url, _stamp(when), body))
    return out


# --- the page template (that of the fixtures) -----------------------------------------------

_HEAD = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" \
"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" id="typepad-standard" \
xmlns:fb="http://www.facebook.com/2008/fbml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<meta name="generator" content="http://www.typepad.com/" />
<meta name="keywords" content="Politics, Economy, Middle East, Syria, Iraq" />
<meta property="og:title" content="{title}" />
<meta property="og:url" content="{post_url}" />
<meta property="og:site_name" content="Moon of Alabama" />
<link rel="stylesheet" href="{origin}/styles.css?v=6" type="text/css" media="screen" />
<link rel="alternate" type="application/atom+xml" title="Posts on 'Moon of Alabama' (Atom)" \
href="{origin}/atom.xml" />
<link rel="alternate" type="application/rss+xml" title="Posts on 'Moon of Alabama' (RSS 1.0)" \
href="{origin}/index.rdf" />
<link rel="alternate" type="application/rss+xml" title="Posts on 'Moon of Alabama' (RSS 2.0)" \
href="{origin}/rss.xml" />
<script type="text/javascript">var TPApp = {{}}; TPApp.app_uri = "https://www.typepad.com/";\
</script>
<title>Moon of Alabama: {title}</title>
<link rel="canonical" href="{post_url}" />
<link rel="start" href="{origin}/" title="Home" />
</head>
<body class="layout-two-column-right post">
<div id="container"><div id="container-inner" class="pkg">
<div id="banner"><div id="banner-inner" class="pkg">
<h1 id="banner-header"><a href="{origin}/" accesskey="1">Moon of Alabama</a></h1>
<h2 id="banner-description"><img alt="Brecht quote" border="0" \
src="{origin}/images/brecht.jpg" width="400" height="60" /></h2>
</div></div>
<div id="pagebody"><div id="pagebody-inner" class="pkg">
<div id="alpha"><div id="alpha-inner" class="pkg">
<p class="content-nav">
<a href="{origin}/{yyyy}/{mm}/an-earlier-post.html">&laquo; An Earlier Post</a> |
<a href="{origin}/">Main</a> |
<a href="{origin}/{yyyy}/{mm}/open-thread-{yyyy}-28.html">Open Thread {yyyy}-28 &raquo;</a>
</p>
<h2 class="date-header">{date_header}</h2>
<div class="entry-category-general entry-author-b entry-type-post entry" id="entry-{entry_id}">
<h3 class="entry-header">{title}</h3>
<div class="entry-content">
<div class="entry-body">
{entry_body}
</div>
</div>
<div class="entry-footer">
<p class="entry-footer-info">
<span class="post-footers">Posted by b on {footer_date}</span> \
<span class="separator">|</span> <a class="permalink" href="{post_url}">Permalink</a>
</p>
</div>
</div>
<div class="comments">
<a id="comments"></a>
<h3 class="comments-header">Comments</h3>
"""

_TAIL = """</div></div>

<div id="beta"><div id="beta-inner" class="pkg">
<div class="module-search module"><h2 class="module-header">Search</h2><div class="module-content">
<form method="get" action="https://www.google.com/search"><input type="text" name="q" />\
<input type="submit" value="Search" /></form></div></div>
<div class="module-syndicate module"><div class="module-content">
<a href="{origin}/atom.xml">Subscribe to this blog's feed</a></div></div>
<div class="module-archives module"><h2 class="module-header">Archives</h2>\
<div class="module-content"><ul class="module-list">
<li class="module-list-item"><a href="{origin}/{yyyy}/{mm}/index.html">June {yyyy}</a></li>
<li class="module-list-item"><a href="{origin}/{yyyy}/05/index.html">May {yyyy}</a></li>
<li class="module-list-item"><a href="{origin}/{yyyy}/04/index.html">April {yyyy}</a></li>
</ul></div></div>
<div class="module-typelist module"><h2 class="module-header">Recent Comments</h2>\
<div class="module-content"><ul class="module-list">
<li class="module-list-item">karlof1 on <a href="{origin}/{yyyy}/06/open-thread-{yyyy}-27.html">\
Open Thread {yyyy}-27</a></li>
<li class="module-list-item">james on <a href="{origin}/{yyyy}/06/an-earlier-post.html">\
An Earlier Post</a></li>
</ul></div></div>
</div></div>

</div></div>
</div></div>
<script type="text/javascript">
(function(){{ var s = document.createElement('script'); \
s.src = 'https://static.typepad.com/.shared/js/qp/loader-combined-min.js'; \
document.body.appendChild(s); }})();
</script>
</body>
</html>
"""


def _entry_body(rng: random.Random, origin: str) -> str:
    blocks = [_paragraph(rng) for _ in range(4)]
    blocks.insert(2, _blockquote(rng))
    image = f"{origin}/images8/map1"
    blocks.append(
        f'<p><a href="{image}.jpg"><img alt="" border="0" src="{image}-s.jpg" title="" '
        f'width="500" /></a><br />\n<a href="{image}.jpg">bigger</a></p>'
    )
    blocks += [_paragraph(rng) for _ in range(6)]
    blocks.append("<p>That sounds like a plan.</p>")
    return "\n".join(blocks)


def page_path(post_path: str, page: int) -> str:
    """Path of comment page `page` (1 is the post itself)."""
    if page == 1:
        return post_path
    return post_path.removesuffix(".html") + f"/comments/page/{page}/"


def _pager(origin: str, post_path: str, page: int, pages: int) -> str:
    def href(k: int) -> str:
        return f"{origin}{page_path(post_path, k)}#comments"

    parts: list[str] = []
    if page > 1:
        parts.append(f'<a href="{href(page - 1)}">&laquo; Previous</a>')
    for k in range(1, pages + 1):
        parts.append(f"<span>{k}</span>" if k == page else f'<a href="{href(k)}">{k}</a>')
    if page < pages:
        parts.append(f'<a href="{href(page + 1)}">Next &raquo;</a>')
    return '<div class="comments-nav pager-inline">' + " | ".join(parts) + "</div>\n"


def make_thread(
    n_comments: int,
    per_page: int = 100,
    *,
    seed: int = 1,
    slug: str | None = None,
    origin: str = ORIGIN,
    closed: bool = True,
) -> SyntheticThread:
    """A thread of n_comments over pages of per_page, rendered in memory."""
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    post_rng = random.Random(f"post-{seed}")
    yyyy, mm = 2018, 6
    slug = slug or f"synthetic-thread-{seed}"  # the same URL whatever the number of comments
    post_path = f"/{yyyy}/{mm:02d}/{slug}.html"
    post_url = origin + post_path
    title = escape(f"Synthetic Thread {seed} - Is The Attack On Abu Kamal Part Of A Plan?")
    comments = generate_comments(n_comments, seed=seed)
    fields = dict(
        title=title, post_url=post_url, origin=origin, yyyy=yyyy, mm=f"{mm:02d}",
        date_header="June 08, 2018", entry_id=comment_id(seed + 7919, 0),
        entry_body=_entry_body(post_rng, origin), footer_date="June 8, 2018 at 18:39 UTC",
    )
    head = _HEAD.format(**fields)
    tail = _TAIL.format(**fields)
    pages = max(1, -(-n_comments // per_page))
    thread = SyntheticThread(origin=origin, post_path=post_path, title=title, comments=comments)
    for page in range(1, pages + 1):
        chunk = comments[(page - 1) * per_page : page * per_page]
        pager = _pager(origin, post_path, page, pages) if pages > 1 else ""
        parts = [head, pager, '<div class="comments-content">\n']
        parts += [_comment_html(c, post_url) for c in chunk]
        parts.append("</div>\n")
        parts.append(pager if pages > 1 else "\n")
        parts.append("</div>\n")
        if closed and page == pages:
            parts.append(
                '<p class="comments-closed font-entrybody">'
                "The comments to this entry are closed.</p>\n"
            )
        parts.append(tail)
        thread.pages[page_path(post_path, page)] = "".join(parts)
    return thread


def write_thread(thread: SyntheticThread, folder: Path) -> Path:
    """Write the pages and routes.json (fixture layout); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    routes: dict[str, str] = {}
    for path, html in thread.pages.items():
        rel = path.rsplit("/", 1)[-1] if path.endswith(".html") else path.split("/", 3)[-1]
        if not path.endswith(".html"):
            rel = rel.rstrip("/") + "/index.html"
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        routes[path] = rel
    spec = {"origin": thread.origin, "routes": routes}
    (folder / "routes.json").write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write (fixture layout)")
    parser.add_argument("--comments", "-n", type=int, default=5000)
    parser.add_argument("--per-page", "-p", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slug", default=None)
    parser.add_argument("--open", action="store_true", help="no 'comments are closed' marker")
    args = parser.parse_args(argv)
    if args.comments < 0 or args.per_page < 1:
        print("error: --comments must be >= 0 and --per-page >= 1", file=sys.stderr)
        return 2
    thread = make_thread(args.comments, args.per_page, seed=args.seed, slug=args.slug,
                         closed=not args.open)
    write_thread(thread, args.out)
    size = sum(len(h.encode()) for h in thread.pages.values())
    print(f"wrote {len(thread.pages)} pages, {len(thread.comments)} comments, "
          f"{size / 1e6:.1f} MB to {args.out}; post: {thread.post_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
