"""The dashboard's billing progress cell and the care manager's caseload-size box."""

import datetime

from django import template

from registry.billing import episode_month, next_target
from registry.caseload_size import caseload_size_of

register = template.Library()


@register.inclusion_tag("registry/billing_progress.html")
def minutes_progress(row, today: datetime.date) -> dict:
    """ "28 / 36": this month's minutes toward its next threshold (month one 36, later 31, then each add-on)."""
    minutes = row.minutes_this_month
    target, code = next_target(minutes, first_month=episode_month(row.enrolled_on, today) == 1)
    return {"minutes": minutes, "target": target, "target_code": code}


@register.inclusion_tag("registry/caseload_size_box.html", takes_context=True)
def caseload_size_box(context) -> dict:
    """For a care manager: their open caseload against the AIMS range for their FTE (three queries)."""
    return {"size": caseload_size_of(context["request"].user)}
