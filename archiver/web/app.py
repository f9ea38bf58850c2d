"""The `archiver serve` web app (Starlette, Jinja2 templates, no JavaScript): sites, threads, a
thread's comments a page at a time, comment permalinks and histories, search, status, the
"archive this URL" form and its jobs, a thread's exports as downloads."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jinja2
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from archiver import __version__
from archiver.errors import ArchiverError
from archiver.export import output
from archiver.export.selection import as_utc
from archiver.store.db import Store
from archiver.store.models import Comment, Thread
from archiver.web import queries
from archiver.web.jobs import Jobs, UrlRefused
from archiver.web.security import CSRF_COOKIE, CSRF_FIELD, Guard, csrf_ok, new_csrf_token

EXPORTS = {  # format -> (file suffix, media type)
    "text": (".txt", "text/plain; charset=utf-8"),
    "jsonl": (".jsonl", "application/x-ndjson"),
    "warc": (".warc.gz", "application/warc"),
    "wacz": (".wacz", "application/zip"),
}
SEARCH_PAGE = 20  # hits a page
LOOPBACK_NAMES = ["127.0.0.1", "localhost", "::1", "[::1]"]


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _when(value: Any, day: bool = False) -> str:
    aware = as_utc(value)
    if aware is None:
        return ""
    return f"{aware:%Y-%m-%d}" if day else f"{aware:%Y-%m-%d %H:%M} UTC"


class WebApp:
    """The routes, over one store and the settings' [serve] section."""

    def __init__(self, settings: Any, store: Store, jobs: Jobs | None = None) -> None:
        self.settings = settings
        self.store = store
        self.jobs = jobs or Jobs(settings, store)
        self.page_size = settings.serve.page_size
        folder = str(resources.files("archiver.web").joinpath("templates"))
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder), autoescape=True)
        self.templates = Jinja2Templates(env=env)
        self.templates.env.globals.update(version=__version__, when=_when)

    def render(self, request: Request, name: str, status_code: int = 200,
               **context: Any) -> Response:
        return self.templates.TemplateResponse(request, name, context, status_code=status_code)

    # -- browsing -------------------------------------------------------------------------
    def home(self, request: Request) -> Response:
        with self.store.session() as session:
            sites = queries.sites(session)
            recent = queries.threads(session, sort="fetched", per_page=10)
        return self.render(request, "home.html", sites=sites, recent=recent)

    def thread_list(self, request: Request) -> Response:
        q = request.query_params
        site_id = _int(q.get("site"), 0) or None
        status = q.get("status") or None
        sort = q.get("sort") or "newest"
        sort = sort if sort in queries.SORTS else "newest"
        text = (q.get("q") or "")[:200]
        with self.store.session() as session:
            listing = queries.threads(session, site_id=site_id, status=status, text=text,
                                      sort=sort, page=_int(q.get("page"), 1))
            sites = queries.sites(session)
        params = {k: v for k, v in (("site", site_id), ("status", status), ("q", text),
                                    ("sort", sort)) if v}
        return self.render(request, "threads.html", listing=listing, sites=sites,
                           site_id=site_id, status=status, sort=sort, text=text, params=params,
                           sorts=queries.SORTS, statuses=queries.STATUSES)

    def _thread(self, session: Any, request: Request) -> Thread:
        thread: Thread | None = session.get(Thread, _int(request.path_params["thread_id"], 0))
        if thread is None:
            raise HTTPException(404, "no such thread")
        return thread

    def thread(self, request: Request) -> Response:
        with self.store.session() as session:
            thread = self._thread(session, request)
            view = queries.thread_page(session, thread, _int(request.query_params.get("page"), 1),
                                       self.page_size)
            return self.render(request, "thread.html", view=view, exports=EXPORTS)

    def comment(self, request: Request) -> Response:
        """A comment's permalink: its thread's page that shows it, at its anchor."""
        with self.store.session() as session:
            comment = session.get(Comment, _int(request.path_params["comment_id"], 0))
            if comment is None:
                raise HTTPException(404, "no such comment")
            page = queries.comment_page(session, comment, self.page_size)
        return RedirectResponse(
            f"/threads/{comment.thread_id}?page={page}#{queries.anchor(comment.source_id)}",
            status_code=303)

    def history(self, request: Request) -> Response:
        """A comment alone, with every earlier version it had."""
        with self.store.session() as session:
            comment = session.get(Comment, _int(request.path_params["comment_id"], 0))
            if comment is None:
                raise HTTPException(404, "no such comment")
            thread = session.get(Thread, comment.thread_id)
            assert thread is not None
            view = queries.comment_history(session, comment, thread)
            return self.render(request, "history.html", view=view, thread=thread)

    def picture(self, request: Request) -> Response:
        """A picture held in the store, as its bytes were received (decoded), with the media
        type its bytes showed; cached for a day (it never changes)."""
        from archiver.store import captures as captures_store
        from archiver.store.models import Capture, Picture

        with self.store.session() as session:
            picture = session.get(Picture, _int(request.path_params["picture_id"], 0))
            capture = session.get(Capture, picture.capture_id) \
                if picture is not None and picture.state == "ok" and picture.capture_id else None
            stored = captures_store.stored_result(session, capture.id) \
                if capture is not None and capture.id is not None else None
            if picture is None or stored is None:
                raise HTTPException(404, "no such picture")
            return Response(stored[0].body, media_type=picture.media_type,
                            headers={"Cache-Control": "private, max-age=86400"})

    # -- exports --------------------------------------------------------------------------
    def download(self, request: Request) -> Response:
        """The thread exported as text, JSONL, WARC or WACZ (written to a temporary folder by
        archiver.export, streamed from disk, deleted when sent)."""
        fmt = request.path_params["fmt"]
        if fmt not in EXPORTS:
            raise HTTPException(404, f"unknown export format {fmt!r}")
        suffix, media = EXPORTS[fmt]
        folder = Path(tempfile.mkdtemp(prefix="archiver-web-export-"))
        try:
            with self.store.session() as session:
                thread = self._thread(session, request)
                name = output.thread_slug(thread) + suffix
                path = self._export(session, thread, fmt, folder, name)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return FileResponse(path, media_type=media, filename=name,
                            background=BackgroundTask(shutil.rmtree, folder, True))

    @staticmethod
    def _export(session: Any, thread: Thread, fmt: str, folder: Path, name: str) -> Path:
        from archiver.export.selection import Selection, resolve

        path = folder / name
        if fmt in ("text", "jsonl"):
            from archiver.export import jsonl, text

            writer: Callable[..., Any] = text.write_thread if fmt == "text" \
                else jsonl.write_thread
            with open(path, "w", encoding="utf-8") as handle:
                writer(session, thread, handle)
            return path
        resolved = resolve(session, Selection(url=thread.url))
        resolved.condition = Thread.id == thread.id  # exactly this thread, whatever its URLs
        if fmt == "warc":
            from archiver.export import warc

            report = warc.export(session, resolved, path)
            return report.files[0]
        from archiver.export import wacz

        return wacz.export(session, resolved, path).path

    # -- search ---------------------------------------------------------------------------
    def search(self, request: Request) -> Response:
        """The search box: archiver.search over every post and comment; each hit links to the
        comment in its thread (its permalink) or to the post."""
        q = request.query_params
        query = (q.get("q") or "").strip()[:500]
        order: Literal["newest", "best"] = "newest" if q.get("order") == "newest" else "best"
        page = max(1, _int(q.get("page"), 1))
        since, until = (q.get("since") or "").strip(), (q.get("until") or "").strip()
        context: dict[str, Any] = dict(query=query, order=order, page=page, since=since,
                                       until=until, hits=[], more=False, error="")
        if query:
            from archiver import search as search_module
            from archiver.export.selection import parse_since
            try:
                with self.store.session() as session:
                    hits = list(search_module.search(
                        session, query, order=order, limit=SEARCH_PAGE + 1,
                        offset=(page - 1) * SEARCH_PAGE,
                        since=parse_since(since) if since else None,
                        until=parse_since(until) if until else None))
                context.update(hits=hits[:SEARCH_PAGE], more=len(hits) > SEARCH_PAGE)
            except ArchiverError as exc:
                context["error"] = str(exc).replace("--since", "since")
                return self.render(request, "search.html", status_code=400, **context)
        return self.render(request, "search.html", **context)

    # -- status ---------------------------------------------------------------------------
    def status(self, request: Request) -> Response:
        from archiver.schedule import status_lines

        return self.render(request, "status.html", lines=status_lines(self.settings),
                           jobs=self.jobs.recent())

    # -- the archive form -----------------------------------------------------------------
    def archive_form(self, request: Request, error: str = "", url: str = "",
                     status_code: int = 200) -> Response:
        token = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
        response = self.render(request, "archive.html", status_code=status_code, error=error,
                               url=url, csrf=token, field=CSRF_FIELD, jobs=self.jobs.recent(),
                               workers=self.jobs.live_workers())
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path="/")
        return response

    async def archive_post(self, request: Request) -> Response:
        form = await request.form()
        submitted = str(form.get(CSRF_FIELD) or "")
        if not csrf_ok(request, submitted):
            return Response("403: cross-site request refused (the form must be posted from "
                            "this archive's own page)\n", status_code=403,
                            media_type="text/plain; charset=utf-8")
        text = str(form.get("url") or "")
        try:
            url = self.jobs.check(text)
        except UrlRefused as exc:
            return self.archive_form(request, error=str(exc), url=text, status_code=400)
        job = self.jobs.submit(url)
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    def job(self, request: Request) -> Response:
        job = self.jobs.get(_int(request.path_params["job_id"], 0))
        if job is None:
            raise HTTPException(404, "no such job (jobs are kept until the server restarts)")
        return self.render(request, "job.html", job=job)

    # -- static -----------------------------------------------------------------------------
    @staticmethod
    def stylesheet(request: Request) -> Response:
        mirror = resources.files("archiver.export").joinpath("static", "style.css").read_text(
            encoding="utf-8")
        extra = resources.files("archiver.web").joinpath("static", "web.css").read_text(
            encoding="utf-8")
        return Response(mirror + "\n" + extra, media_type="text/css; charset=utf-8",
                        headers={"Cache-Control": "max-age=3600"})

    def error(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
        return self.render(request, "error.html", status_code=status, status=status,
                           detail=detail)

    def routes(self) -> list[Route]:
        return [
            Route("/", self.home),
            Route("/threads", self.thread_list),
            Route("/threads/{thread_id:int}", self.thread),
            Route("/threads/{thread_id:int}/export/{fmt}", self.download),
            Route("/comments/{comment_id:int}", self.comment),
            Route("/comments/{comment_id:int}/history", self.history),
            Route("/pictures/{picture_id:int}", self.picture),
            Route("/search", self.search),
            Route("/status", self.status),
            Route("/archive", self.archive_form, methods=["GET"]),
            Route("/archive", self.archive_post, methods=["POST"]),
            Route("/jobs/{job_id:int}", self.job),
            Route("/static/style.css", self.stylesheet),
        ]


def create_app(settings: Any, store: Store | None = None, *, jobs: Jobs | None = None,
               host: str | None = None) -> Starlette:
    """The ASGI app for settings ([serve]: token, allow_networks, page_size). Listening on
    loopback (host), only loopback Host names are answered (another site's name rebound to
    127.0.0.1 cannot read the archive); with a token every request must carry it."""
    from archiver.web.security import is_loopback

    store = store or Store(settings.db_url)
    web = WebApp(settings, store, jobs)
    middleware = [Middleware(Guard, token=settings.serve.token)]
    listen = host if host is not None else settings.serve.host
    if is_loopback(listen) and not settings.serve.token:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=LOOPBACK_NAMES))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        web.jobs.close()

    app = Starlette(routes=web.routes(), middleware=middleware,
                    exception_handlers={HTTPException: web.error, 500: web.error},
                    lifespan=lifespan)
    app.state.web = web
    return app


