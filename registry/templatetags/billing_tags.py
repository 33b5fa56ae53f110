"""The dashboard's billing progress cell and the care manager's caseload-size box."""

import datetime
from functools import partial

from django import template
from django.utils.html import format_html

from registry.billing import episode_month, next_target
from registry.caseload_size import caseload_size_of
from registry.figures_cache import kept

register = template.Library()


@register.simple_tag
def minutes_progress(row, today: datetime.date) -> str:
    """ "28 / 36": this month's minutes toward its next threshold (month one 36, later 31, then each add-on).

    Built with format_html, not an included template: it is drawn on each of the dashboard's 50 rows.
    """
    minutes = row.minutes_this_month
    target, code = next_target(minutes, first_month=episode_month(row.enrolled_on, today) == 1)
    return format_html(
        '<span title="{code} at {target} minutes">{minutes} / {target}</span><progress class="d-block w-100" '
        'value="{minutes}" max="{target}" aria-label="{minutes} of {target} minutes toward {code}"></progress>',
        code=code,
        target=target,
        minutes=minutes,
    )


@register.inclusion_tag("registry/caseload_size_box.html", takes_context=True)
def caseload_size_box(context) -> dict:
    """For a care manager: their open caseload against the AIMS range for their FTE (three queries,
    kept with the dashboard's figures until a write changes them: registry/figures_cache.py)."""
    user = context["request"].user
    size, _ = kept(("caseload-size", user.pk, user.role, user.fte), partial(caseload_size_of, user))
    return {"size": size}
