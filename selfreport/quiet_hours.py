"""A clinic's quiet hours: no text goes out between their start and end, in the clinic's time
(docs/sms.md#quiet-hours). Pure code: the moment and the hours in, the end of the wait out."""

import datetime
import zoneinfo


def quiet_until(
    moment: datetime.datetime, *, start: datetime.time, end: datetime.time, zone: zoneinfo.ZoneInfo
) -> datetime.datetime | None:
    """When the quiet hours that moment falls in end; None when it is outside them.

    Quiet hours may run across midnight (20:00-08:00) or within a day (12:00-13:00); the
    same time for both means none. The end is the clinic's wall-clock time, whatever the
    daylight saving change in between.
    """
    if start == end:
        return None
    local = moment.astimezone(zone)
    now = local.time()
    if start < end:
        inside, end_day = start <= now < end, local.date()
    else:
        inside = now >= start or now < end
        end_day = local.date() + datetime.timedelta(days=1) if now >= start else local.date()
    if not inside:
        return None
    return datetime.datetime.combine(end_day, end, tzinfo=zone)
