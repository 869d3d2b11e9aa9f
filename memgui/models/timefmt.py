"""Timestamps as the admin reads them: in the user's own zone, with a sortable epoch."""

from __future__ import annotations

from datetime import datetime, tzinfo

from memgui.store.timeutil import parse_timestamp

FORMAT = "%Y-%m-%d %H:%M"


def local_moment(stamp: object, zone: tzinfo, default_zone: tzinfo) -> datetime | None:
    """The moment ``stamp`` (ISO text; naive text read in ``default_zone``) names, in ``zone``."""
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return parse_timestamp(stamp, default_zone).astimezone(zone)
    except (ValueError, OverflowError):
        return None


def local_text(stamp: object, zone: tzinfo, default_zone: tzinfo) -> str:
    """``YYYY-MM-DD HH:MM`` in ``zone``; the text itself when it is not a timestamp; '' for nothing."""
    moment = local_moment(stamp, zone, default_zone)
    if moment is None:
        return stamp if isinstance(stamp, str) else ""
    return moment.strftime(FORMAT)
