"""Time zones, timestamps and local calendar days.

Profile zones are IANA names (``Europe/Paris``) or UTC offsets (``UTC-5``, ``GMT+2``, ``+05:30``, ``-0800``).
Timestamps are ISO 8601; one without an offset (as the older implementation wrote) is read in the default
zone, the earlier of two readings when the wall time is ambiguous (DST fold).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import tz as dateutil_tz
from dateutil.parser import isoparse

_OFFSET = re.compile(
    r"(?:(?:UTC|GMT)\s*)?(?P<sign>[+-])\s*(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?", re.IGNORECASE
)


@lru_cache(maxsize=512)
def parse_zone(name: str) -> tzinfo:
    """The tzinfo for a zone name or offset; ``ValueError`` naming it when it is neither."""
    text = name.strip()
    if not text:
        raise ValueError("empty time zone")
    if text.upper() in ("UTC", "GMT", "Z"):
        return timezone.utc
    match = _OFFSET.fullmatch(text)
    if match:
        hours, minutes = int(match["hours"]), int(match["minutes"] or 0)
        if hours > 14 or minutes >= 60 or (hours == 14 and minutes):
            raise ValueError(f"time zone offset {name!r} is out of range (-14:00 to +14:00)")
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if match["sign"] == "-" else delta, text)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as 'Europe/Paris' or an "
                         f"offset such as 'UTC-5')") from None


def local_zone() -> tzinfo:
    """The machine's local zone, with its DST rules."""
    zone = dateutil_tz.gettz()
    return zone if zone is not None else timezone.utc


def resolve_zone(name: str | None, default: tzinfo) -> tzinfo:
    """A profile's zone, or ``default`` when the profile names none or names one that does not exist."""
    if not name or not isinstance(name, str):
        return default
    try:
        return parse_zone(name)
    except ValueError:
        return default


def parse_timestamp(text: str, default_zone: tzinfo) -> datetime:
    """An aware datetime from ISO text; naive text is read in ``default_zone``. ``ValueError`` if not ISO."""
    if not isinstance(text, str):
        raise ValueError(f"timestamp must be ISO 8601 text, got {type(text).__name__}")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        try:
            value = isoparse(text)
        except (ValueError, OverflowError):
            raise ValueError(f"not an ISO 8601 timestamp: {text!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=default_zone)


def local_date(moment: datetime, zone: tzinfo) -> date:
    """The calendar day ``moment`` falls on in ``zone``."""
    return moment.astimezone(zone).date()


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def iso_now() -> str:
    """The current time as ISO 8601 with its UTC offset."""
    return now_utc().isoformat()


def as_aware(moment: datetime, default_zone: tzinfo) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=default_zone)


def zone_label(zone: tzinfo) -> str:
    """A readable name for a zone: the IANA key, the offset's name, or the zone's own abbreviation."""
    key = getattr(zone, "key", None)
    if isinstance(key, str):
        return key
    name = zone.tzname(None)
    return name if name else str(zone)
