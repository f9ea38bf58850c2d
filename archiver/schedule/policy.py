"""The refresh policy: when a thread is polled next (backing off while it is quiet), how long a
failed fetch waits, and when a site's discovery schedule fires (its APScheduler trigger).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from archiver.config import RefreshPolicy, ScheduleConfig, SiteConfig


def plan_refresh(
    policy: RefreshPolicy,
    *,
    now: datetime,
    changed: bool,
    closed: bool,
    gone: bool = False,
    interval_s: float | None,
    born: datetime | None,
) -> tuple[datetime | None, int]:
    """When to poll a thread next, and the interval that led there.

    After a change: min_interval. Each quiet poll: the last interval times factor, capped at
    max_interval. Never again (None) once its comments are closed, it is gone, or it is older
    than max_age; the last poll is placed at the max_age boundary so nothing in between is missed.
    """
    if changed or not interval_s:
        interval = policy.min_interval
    else:
        interval = min(interval_s * policy.factor, policy.max_interval)
    interval = max(policy.min_interval, min(interval, policy.max_interval))
    if gone or closed:
        return None, int(interval)
    if born is not None:
        expires = born + timedelta(seconds=policy.max_age)
        if now >= expires:
            return None, int(interval)
        return min(now + timedelta(seconds=interval), expires), int(interval)
    return now + timedelta(seconds=interval), int(interval)


def retry_delay(policy: RefreshPolicy, attempts: int) -> float:
    """How long to wait before trying a failed fetch again: min_interval doubling per attempt."""
    return min(policy.min_interval * (2 ** max(0, attempts - 1)), policy.max_interval)


def trigger_for(schedule: ScheduleConfig, timezone: str) -> CronTrigger | IntervalTrigger:
    if schedule.cron:
        return CronTrigger.from_crontab(schedule.cron, timezone=timezone)
    return IntervalTrigger(seconds=schedule.interval or 3600.0, timezone=timezone)


def next_discovery(site: SiteConfig, timezone: str, now: datetime) -> datetime | None:
    """The first time after now the site's discovery schedule fires."""
    trigger = trigger_for(site.schedule, timezone)
    if isinstance(trigger, IntervalTrigger):
        return now + timedelta(seconds=site.schedule.interval or 3600.0)
    fire = trigger.get_next_fire_time(None, now)
    return fire.astimezone(UTC) if fire is not None else None

