"""The scheduler behind `archiver run`, one job per module: `policy` (when a thread is polled
next, retry back-off, discovery triggers), `runner` (what is due, archiving one item, run once),
`daemon` (APScheduler, worker threads, signals) and `report` (`status`, `health`).

Every due time lives in the database (Thread.next_due_at, DiscoveredUrl.next_attempt_at,
SiteCheck.next_due_at), so a restart after a crash or a kill resumes where the last run stopped;
the queries behind them are in archiver/store/schedule_repo.py.
"""

from archiver.schedule.daemon import Scheduler
from archiver.schedule.policy import next_discovery, plan_refresh, retry_delay, trigger_for
from archiver.schedule.report import config_status_lines, health_check, pid_alive, status_lines
from archiver.schedule.runner import (
    Clock,
    Runner,
    RunSummary,
    Stopping,
    WorkItem,
    log_failure,
    url_key,
)
from archiver.store.schedule_repo import as_utc

__all__ = [
    "Clock",
    "RunSummary",
    "Runner",
    "Scheduler",
    "Stopping",
    "WorkItem",
    "as_utc",
    "config_status_lines",
    "health_check",
    "log_failure",
    "next_discovery",
    "pid_alive",
    "plan_refresh",
    "retry_delay",
    "status_lines",
    "trigger_for",
    "url_key",
]
