"""Reminders before an end (a label's expiry, a case's or a complaint's deadline): which are still to send.

A reminder waits on a timer; one whose time passed while the worker was down, or that was scheduled
already past, must not go out in a burst with the later ones or after the end it announces.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime

from clusterlabel.domain.durations import Duration


def schedule_before(offsets: Iterable[Duration], end: datetime) -> dict[str, datetime]:
    """When each reminder falls (offset → when): `offsets` before `end`."""
    return {str(offset): offset.before(end) for offset in offsets}


def reminders_to_send(
    schedule: Mapping[str, datetime], sent: Collection[str], end: datetime, now: datetime
) -> dict[str, datetime]:
    """Of the reminders scheduled (offset → when), those still to send at `now`: none sent already, none
    once `end` has come, and of those whose time has come only the latest. A reminder missed (the worker
    was down, or a label was imported close to its expiry) is stale once a later one is due: the cluster
    hears "expires in 7 days" once, not "in 90", "in 30" and "in 7" in the same minute."""
    if now >= end:
        return {}
    latest_due = max((when for when in schedule.values() if when <= now), default=None)
    return {
        offset: when
        for offset, when in schedule.items()
        if offset not in sent and (latest_due is None or when >= latest_due)
    }


def stale_reminder(offset: str, schedule: Mapping[str, datetime], end: datetime, now: datetime) -> bool:
    """Whether the reminder at `offset` is past sending by `now`: `end` has come, or a later one is due."""
    return offset not in reminders_to_send(schedule, (), end, now)
