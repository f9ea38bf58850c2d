"""The `archiver` command: archive a thread, list what is archived, export it."""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from archiver import __version__
from archiver.cli_help import TidyCommand, TidyGroup
from archiver.cli_search import search_command
from archiver.config import Settings, check_url, load_settings
from archiver.errors import ArchiverError, UsageError, describe
from archiver.store.db import Store

if TYPE_CHECKING:
    from archiver.pipeline import ArchiveReport


app = typer.Typer(
    cls=TidyGroup,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Archive discussion threads (a post and every comment on it) and export them.",
)
console = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")


class State:
    debug = False
    config: Path | None = None

    @classmethod
    def settings(cls) -> Settings:
        return load_settings(cls.config)


def fail(message: str, code: int) -> typer.Exit:
    console.print(f"[red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush does not fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def command(
    func: Callable[P, R], on: typer.Typer | None = None, name: str | None = None
) -> Callable[P, R]:
    """Register a command (on app, or the sub-app on) whose errors become one readable line and
    an exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ArchiverError as exc:
            if State.debug:
                raise
            raise fail(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except typer.Exit:
            raise
        except BrokenPipeError:  # `archiver export ... -o - | head`: the reader had enough
            _silence_stdout()
            raise typer.Exit(141) from None
        except Exception as exc:
            if State.debug:
                raise
            raise fail(_unexpected(exc), 1) from None

    (on or app).command(name, cls=TidyCommand)(wrapper)
    return wrapper


def require_archive(settings: Settings) -> None:
    """Read-only commands (threads, export, status) never create a store: a SQLite file that
    is not there yet is one line and exit 2."""
    url = settings.db_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        where = Path(url.removeprefix("sqlite:///"))
        raise UsageError(f"no archive at {where} yet: run archiver archive URL first")


def _unexpected(exc: Exception) -> str:
    """One line for an error we have no type for: a database error says what the database said
    and what to do (never its SQL or parameters); anything else asks for --debug."""
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, SQLAlchemyError):
        return describe(exc)
    return f"unexpected {describe(exc)} (run with --debug for details)"


def _print_version(value: bool) -> None:
    if value:
        print(f"archiver {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log every request and warning.")
    ] = False,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", metavar="FILE", help="TOML config file.")
    ] = None,
    _version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_print_version,
                           help="Print the version and exit.")
    ] = False,
) -> None:
    State.debug = debug
    State.config = config
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO if verbose else logging.ERROR,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not debug:  # archiver.fetch logs each request already, with bytes, time and attempt
        logging.getLogger("httpx").setLevel(logging.WARNING)


@command
def archive(
    urls: Annotated[list[str] | None, typer.Argument(
        metavar="URL...", help="URL of the thread (the post page); several are archived side by"
                               " side, each host at its own pace.", show_default=False)] = None,
    input_file: Annotated[
        str | None, typer.Option("--input", "-i", metavar="FILE",
                                 help="Read URLs from FILE, one a line (- for stdin; blank lines"
                                      " and # comments skipped).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, metavar="N", help="Threads archived side by side (several"
                                 " URLs; default [archive] workers).")
    ] = None,
    platform: Annotated[
        str, typer.Option(metavar="NAME", help="Platform (typepad, wordpress, blogger, phpbb, "
                          "discourse...: see README), or auto to detect.")
    ] = "auto",
    ignore_robots: Annotated[
        bool, typer.Option("--ignore-robots", help="Skip robots.txt (only for your own site).")
    ] = False,
    from_wayback: Annotated[
        bool, typer.Option("--from-wayback",
                           help="Rebuild the thread from the Wayback Machine's captures.")
    ] = False,
    queue: Annotated[
        bool, typer.Option("--queue", help="Queue them for `archiver worker` instead"
                                           " (PostgreSQL).")
    ] = False,
) -> None:
    """Archive a thread and every page of its comments; several threads side by side."""
    urls = list(urls or [])
    if not urls and input_file is None:
        raise UsageError("Missing argument 'URL'. (see 'archiver archive --help')")
    if queue:
        from archiver.cli_batch import queue_many

        queue_many(State.settings(), urls, input_file, platform=platform)
        return
    if input_file is not None or len(urls) > 1:
        if from_wayback:
            raise UsageError("--from-wayback takes one URL")
        from archiver.cli_batch import archive_many

        archive_many(State.settings(), urls, input_file, workers=workers, platform=platform,
                     ignore_robots=ignore_robots)
        return
    try:
        url = check_url(urls[0])
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from archiver.fetch import Fetcher
    from archiver.pipeline import ThreadArchiver

    settings = State.settings()
    if ignore_robots:
        settings.fetch.respect_robots = False
        logging.getLogger("archiver").warning("robots.txt ignored for %s (--ignore-robots)", url)
        console.print(f"[yellow]warning:[/] robots.txt ignored for {url} (--ignore-robots)",
                      highlight=False, soft_wrap=True)
    store = Store(settings.db_url)

    def on_retry(attempt: int, attempts: int, wait: float, why: str) -> None:
        console.print(f"attempt {attempt} of {attempts} in {round(wait, 1):g} s: {escape(why)}",
                      highlight=False, soft_wrap=True)

    # Retries show on a terminal; piped, stderr keeps to the one error line (-v logs them).
    retries = on_retry if console.is_terminal else None
    if from_wayback:
        _from_wayback(store, settings, url, retries)
        return
    with Fetcher(settings.fetch, on_retry=retries) as fetcher, Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True,
        disable=not console.is_interactive,  # no spinner on a dumb terminal (TERM=dumb)
    ) as progress:
        task = progress.add_task("starting", total=None)

        def on_page(number: int, page_url: str) -> None:
            progress.update(task, description=f"page {number}: {page_url}")

        report = ThreadArchiver(store, fetcher, pictures=settings.pictures_for).archive(
            url, platform=platform, on_page=on_page)
    print(report.summary())
    for line in report.pictures_failed:  # never fatal: tried again on the next archive
        print(f"picture skipped: {line}")
    if report.stopped:
        console.print(f"[yellow]warning:[/] {report.stopped}", highlight=False, soft_wrap=True)
    if report.problems:
        from archiver.pipeline.report import incomplete_error

        raise incomplete_error(report)


def _from_wayback(store: Store, settings: Settings, url: str,
                  retries: Callable[[int, int, float, str], None] | None) -> None:
    from archiver.fetch import Fetcher
    from archiver.importing.wayback import rebuild_from_wayback

    with Fetcher(settings.fetch, on_retry=retries) as fetcher:
        result = rebuild_from_wayback(
            store, fetcher, url, settings.data_dir / "wayback",
            on_snapshot=lambda n, total, snap: console.print(
                f"capture {n} of {total}: {snap.timestamp} {escape(snap.original)}",
                highlight=False, soft_wrap=True) if console.is_terminal else None)
    for thread in result.threads:
        print(thread.summary())
    print(result.summary())
    if result.failed:
        console.print(f"[yellow]warning:[/] {escape(result.failed[0])}", highlight=False,
                      soft_wrap=True)


def import_(
    files: Annotated[list[Path], typer.Argument(
        metavar="FILE...", help="WARC (.warc, .warc.gz) or WACZ files.")],
) -> None:
    """Rebuild threads from web archives: every thread page the files hold, read as if fetched
    (each record a capture, its date kept; several captures of a thread become its versions)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    from archiver.importing.runner import import_files

    settings = State.settings()
    store = Store(settings.db_url)
    total = sum(f.stat().st_size for f in files if f.is_file())
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  console=console, transient=True,
                  disable=not console.is_interactive) as progress:
        task = progress.add_task("scanning", total=total or None)

        def on_bytes(count: int) -> None:
            progress.advance(task, count)

        def on_thread(report: ArchiveReport) -> None:
            progress.update(task, description=f"threads: {report.title[:40]}")
            print(report.summary())

        result = import_files(store, list(files), on_thread=on_thread, on_bytes=on_bytes)
    print(result.summary())
    if result.failed:
        console.print(f"[yellow]warning:[/] {escape(result.failed[0])}"
                      + (f" (and {len(result.failed) - 1} more)" if len(result.failed) > 1
                         else ""), highlight=False, soft_wrap=True)


command(import_, name="import")


@command
def threads(
    as_json: Annotated[
        bool, typer.Option("--json", help="A JSON array (one object per thread) instead.")
    ] = False,
) -> None:
    """List archived threads: URL, title, comments, last fetched, status (open, closed, gone).

    On a terminal a table; piped, tab-separated values with a header line."""
    from archiver.cli_listing import iso_seconds, print_threads
    from archiver.store import repo

    settings = State.settings()
    require_archive(settings)
    store = Store(settings.db_url)
    try:
        with store.session() as session:
            rows = [
                {"url": thread.url, "title": thread.title, "comments": count,
                 "last_fetched": iso_seconds(thread.last_fetched_at), "status": thread.status}
                for thread, count in repo.thread_summaries(session)
            ]
    finally:
        store.close()
    print_threads(rows, as_json=as_json, terminal=sys.stdout.isatty())


@command
def export(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="text, jsonl, html, warc or wacz.")],
    url: Annotated[
        str | None, typer.Argument(help="URL of an archived thread (default: every thread).")
    ] = None,
    out: Annotated[
        str | None,
        typer.Option("--out", "-o", metavar="PATH",
                     help="Output file or folder; - for stdout (text, jsonl)."),
    ] = None,
    site: Annotated[
        str | None, typer.Option("--site", metavar="NAME",
                                  help="Only threads of this site (name or host).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="DATE",
                     help="Only threads new or changed since DATE (UTC, ISO 8601)."),
    ] = None,
    max_size: Annotated[
        str | None,
        typer.Option("--max-size", metavar="SIZE",
                     help="warc/wacz: start a new WARC file past SIZE (default 1G)."),
    ] = None,
) -> None:
    """Export archived threads as text, jsonl, html (offline mirror), warc or wacz."""
    from archiver.export.runner import run_export

    settings = State.settings()
    require_archive(settings)
    configured = next(
        (c for c in settings.sites if site is not None and c.name.lower() == site.strip().lower()),
        None,
    )
    run_export(
        Store(settings.db_url), fmt, url=url, out=out, site=site, since=since, max_size=max_size,
        site_hosts=frozenset(configured.hosts()) if configured is not None else frozenset(),
    )


def run_scheduler(
    once: Annotated[
        bool, typer.Option("--once", help="Discover, archive everything due now, then exit.")
    ] = False,
) -> None:
    """Watch the configured sites: discover new threads, follow open ones (until SIGTERM)."""
    import os

    from archiver.schedule import Scheduler

    settings = State.settings()
    if logging.getLogger().level > logging.INFO:  # a long run logs what it does, and warnings
        logging.getLogger("archiver").setLevel(logging.WARNING)
        for name in ("archiver.schedule", "archiver.discovery"):
            logging.getLogger(name).setLevel(logging.INFO)
    from archiver.fetch.settings import DEFAULT_USER_AGENT

    agent = settings.fetch.user_agent
    placeholder = re.search(r"[\w.+-]*@example\.(?:org|com|net)\b", agent)
    if agent == DEFAULT_USER_AGENT or placeholder:
        what = ("no contact configured: sites see a placeholder in our User-Agent"
                if agent == DEFAULT_USER_AGENT or placeholder is None else
                f"the contact in our User-Agent is still a placeholder address"
                f" ({placeholder.group(0)}, as in the example config)")
        console.print(
            "[yellow]warning:[/] "
            + escape(f"{what}; set [fetch] contact (or ARCHIVER_FETCH_CONTACT) to where site"
                     " owners can reach you"),
            highlight=False, soft_wrap=True,
        )
    scheduler = Scheduler(settings)
    if once:
        summary = scheduler.run_once()
        print(summary.line())
        for error in summary.errors:
            console.print(f"[yellow]warning:[/] {error}", highlight=False, soft_wrap=True)
        return
    names = ", ".join(site.name for site in scheduler.sites) or "no sites, refreshes only"
    console.print(f"archiver {__version__} running ({names}); stop with SIGTERM or Ctrl-C",
                  highlight=False)
    if not scheduler.run_forever():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # a worker is stuck in a network read: nothing of it was committed


run_scheduler.__name__ = "run"  # the command is `archiver run`; `run` is the entry point below
run_scheduler = command(run_scheduler)


@command
def worker(
    concurrency: Annotated[
        int | None, typer.Option(min=1, metavar="N",
                                 help="Jobs at once (default [scheduler] workers).")
    ] = None,
) -> None:
    """Work the shared queue on PostgreSQL (run any number, on any machines): archive queued
    threads, discovery and refreshes, each host at its pace across all workers (until SIGTERM)."""
    from archiver.schedule.queue import require_postgres, run_worker

    settings = State.settings()
    require_postgres(settings.db_url)
    if logging.getLogger().level > logging.INFO:
        logging.getLogger("archiver").setLevel(logging.WARNING)
        logging.getLogger("archiver.schedule").setLevel(logging.INFO)
    s = settings.scheduler
    console.print(f"archiver {__version__} worker ({concurrency or s.workers} at once); stop with"
                  " SIGTERM or Ctrl-C", highlight=False)
    run_worker(settings, concurrency=concurrency or s.workers, heartbeat=s.worker_heartbeat,
               stalled_after=s.worker_stalled_after, tick_seconds=int(s.worker_tick))


db_app = typer.Typer(cls=TidyGroup, help="The database's schema: show its revision, upgrade it.")
app.add_typer(db_app, name="db")


@db_app.callback(invoke_without_command=True)
def _db(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:  # a bare `archiver db` shows its help, as `archiver` does
        print(ctx.get_help())
        raise typer.Exit(2)


def db_upgrade() -> None:
    """Bring the database's schema to the newest revision (every command does this on open)."""
    from archiver.store.db import _shown_url

    settings = State.settings()
    store = Store(settings.db_url)
    try:
        if settings.db_url.startswith("postgres"):  # the workers' queue (procrastinate's own)
            from archiver.schedule.queue import ensure_queue_schema

            if ensure_queue_schema(store.engine):
                print("Created the workers' queue (procrastinate's schema)")
    finally:
        store.close()
    done = store.schema
    where = _shown_url(settings.db_url)
    if done.changed:
        print(f"Upgraded {where} from {done.before or 'no revision'} to {done.after}")
    else:
        print(f"{where} is up to date ({done.after})")


def db_current() -> None:
    """Show the revision the database's schema is at (changes nothing)."""
    from archiver.store.db import schema_state
    from archiver.store.migrations import HEAD

    revision, tables = schema_state(State.settings().db_url)
    if revision == HEAD:
        print(f"{revision} (head)")
    elif revision is None:
        what = "tables of archiver 0.1.0" if tables else "an empty database"
        print(f"no revision: {what}; run: archiver db upgrade")
    else:
        from archiver.store.migrations.run import known

        if known(revision):
            print(f"{revision} (behind {HEAD}); run: archiver db upgrade")
        else:
            print(f"{revision} (unknown to this archiver, which knows up to {HEAD}:"
                  " written by a newer archiver)")


command(db_upgrade, db_app, "upgrade")
command(db_current, db_app, "current")


command(search_command, name="search")  # archiver/cli_search.py


@command
def status() -> None:
    """Show the scheduler, the sites, the threads due and the last errors."""
    from archiver.schedule import config_status_lines, status_lines

    settings = State.settings()
    try:
        require_archive(settings)
    except UsageError:  # what the config says, then the error (exit 2)
        print("\n".join(config_status_lines(settings)))
        raise
    print("\n".join(status_lines(settings)))


@command
def serve(
    host: Annotated[
        str | None, typer.Option(
            metavar="ADDRESS",
            help="Address to listen on (default 127.0.0.1, or the config's serve.host).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(
            metavar="PORT", help="Port (default 8080, or the config's serve.port).")
    ] = None,
) -> None:
    """Read, search and add to the archive in a browser (http://127.0.0.1:8080/).

    Any other address than loopback needs a token (the config's serve.token, or
    ARCHIVER_SERVE_TOKEN): the password every request must then give."""
    from archiver.web.security import is_loopback

    settings = State.settings()
    listen = host if host is not None else settings.serve.host
    if not is_loopback(listen) and not settings.serve.token:
        raise UsageError(f"refusing to listen on {listen} without a token: set [serve] token "
                         "(or ARCHIVER_SERVE_TOKEN), or listen on 127.0.0.1")
    chosen = port if port is not None else settings.serve.port
    if not 0 <= chosen <= 65535:
        raise UsageError(f"--port {chosen} is not a port (0-65535)")
    import uvicorn

    from archiver.web.app import create_app

    app = create_app(settings, Store(settings.db_url), host=listen)
    shown = f"[{listen}]" if ":" in listen else listen
    console.print(f"archiver {__version__} serving {settings.db_url.split('://', 1)[0]} archive "
                  f"on http://{shown}:{chosen}/ (Ctrl-C stops)", highlight=False)
    uvicorn.run(app, host=listen, port=chosen, log_level="warning", server_header=False)


@command
def health(
    max_age: Annotated[
        float | None,
        typer.Option(metavar="SECONDS",
                     help="Oldest acceptable heartbeat, seconds (default from the config)."),
    ] = None,
) -> None:
    """Exit 0 when the database answers and the scheduler's heartbeat is recent, else 1."""
    from archiver.schedule import health_check

    ok, message = health_check(State.settings(), max_age)
    print(("healthy: " if ok else "unhealthy: ") + message)
    if not ok:
        raise typer.Exit(1)


@command
def demo(
    sample: Annotated[
        Path, typer.Option(metavar="FOLDER", help="Fixture folder with routes.json to serve.")
    ] = Path("fixtures/typepad/moa-2018-06-08-abu-kamal/paged"),
    data_dir: Annotated[
        Path, typer.Option("--data-dir", metavar="FOLDER",
                           help="The demo's own data folder, never your archive.")
    ] = Path("archive-demo"),
    port: Annotated[
        int, typer.Option(min=1, max=65535, envvar="ARCHIVER_DEMO_PORT",
                          help="The sample's port on 127.0.0.1 (the thread's URL holds it:"
                          " re-runs on the same port find the same thread).")
    ] = 8642,
) -> None:
    """Serve the bundled sample thread on 127.0.0.1, archive it, export it as text and HTML
    (all in the demo's own data folder, ./archive-demo)."""
    from dataclasses import replace

    from archiver.demo import run_demo

    settings = replace(State.settings(), data_dir=data_dir, database_url="")
    print(f"The demo keeps its own store and exports in {data_dir.resolve()} (not your archive;"
          " delete the folder when done)")
    _, exports = run_demo(settings, sample, port=port)
    print(f"Exports are in {exports}")


@command
def version() -> None:
    """Print the version."""
    print(f"archiver {__version__}")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    try:
        result = app(args=argv, prog_name="archiver", standalone_mode=False)
    except typer.Abort:
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:
        return _usage_error(exc)
    return result if isinstance(result, int) else 0


def _usage_error(exc: Exception) -> int:
    """A command-line usage error (click's, vendored by Typer) as one line; anything else
    is re-raised. A bare `archiver` prints the help, as before."""
    format_message = getattr(exc, "format_message", None)
    code = getattr(exc, "exit_code", None)
    if format_message is None or not isinstance(code, int):
        raise exc
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
        print(ctx.get_help())
        return code
    where = getattr(ctx, "command_path", None) or "archiver"
    fail(f"{format_message()} (see '{where} --help')", code)
    return code


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
