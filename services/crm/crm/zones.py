"""IANA time zone names, checked against the time zone database (zoneinfo): a contact's, a company's, the default.

The OS's /usr/share/zoneinfo, or the tzdata wheel where an image has none (docs/crm.md).
"""

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The zone called `name`; ValueError when the time zone database does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin, America/New_York)") from None


def check_time_zone(name: str) -> str:
    zone(name)
    return name
