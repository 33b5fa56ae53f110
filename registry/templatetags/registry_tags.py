import datetime
import functools

from django import template
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe

from registry import safety
from registry.instruments import INSTRUMENTS
from registry.models import Flag

register = template.Library()

FLAG_STYLES = {
    Flag.Kind.SAFETY: "text-bg-danger",
    Flag.Kind.NOT_IMPROVING: "text-bg-warning",
    Flag.Kind.NEW_PATIENT: "text-bg-info",
    Flag.Kind.NEEDS_DISCUSSION: "text-bg-primary",
    Flag.Kind.FOLLOWUP_OVERDUE: "text-bg-secondary",
    Flag.Kind.NO_FIRST_FOLLOWUP: "text-bg-secondary",
    Flag.Kind.MEASUREMENT_OVERDUE: "text-bg-light border",
}

# get_kind_display() rebuilds the choices dictionary at each call; the badges look labels up here.
FLAG_LABELS = dict(Flag.Kind.choices)


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label: str, title: str = "", css_class: str = ""):
    """A column header that sorts by this column, and toggles direction when already sorted by it."""
    request, current = context["request"], context["sort"]
    ascending_now = current == key
    target = f"-{key}" if ascending_now else key
    params = request.GET.copy()
    params["sort"] = target
    params.pop("page", None)
    state = "ascending" if ascending_now else "descending" if current == f"-{key}" else "none"
    arrow = {"ascending": " ▲", "descending": " ▼", "none": ""}[state]
    return format_html(
        '<th scope="col" class="{}" aria-sort="{}" title="{}"><a class="sort-link" href="?{}">{}{}</a></th>',
        css_class,
        state,
        title or f"Sort by {label.lower()}",
        params.urlencode(),
        label,
        arrow,
    )


@register.filter
def flag_style(kind: str) -> str:
    return FLAG_STYLES.get(kind, "text-bg-secondary")


@register.filter
def weeks_since(day: datetime.date | None, today: datetime.date) -> int | None:
    """Whole weeks from day to today (docs/clinical-definitions.md#registry-columns: days // 7)."""
    if day is None:
        return None
    return (today - day).days // 7


@register.filter
def signed_percent(value: int | None) -> str:
    return "" if value is None else f"{value}%"


@register.filter
def sorted_flags(flags) -> list:
    return sorted(flags, key=lambda flag: flag.priority)


@register.simple_tag
def flag_badges(flags) -> str:
    """The open flags as badges, most urgent first: one tag rather than a loop of template
    nodes, because the dashboard draws it on each of its 50 rows."""
    return format_html_join(
        "",
        '<span class="badge {} me-1" data-flag="{}">{}</span>',
        ((flag_style(flag.kind), flag.kind, FLAG_LABELS[flag.kind]) for flag in sorted_flags(flags)),
    )


@register.filter
def flag_label(kind: str) -> str:
    """A flag kind as people read it ("Not improving"), never its code."""
    return FLAG_LABELS.get(kind, kind)


@register.filter
def flag_labels(kinds) -> list[str]:
    return [flag_label(kind) for kind in kinds]


@register.filter
def instrument_names(codes) -> list[str]:
    """Instrument codes ("PHQ9") as their names ("PHQ-9")."""
    return [INSTRUMENTS[code].name if code in INSTRUMENTS else code for code in codes]


@register.simple_tag
def instrument_codes() -> str:
    """The codes of every instrument ("PHQ9, GAD7, ..."), as imports take them."""
    return ", ".join(INSTRUMENTS)


@register.filter
def instrument_of(code: str):
    """The Instrument of a code, for templates to ask it (has_risk_level, safety_item), never test the code."""
    return INSTRUMENTS.get(code)


@register.filter
def safety_item(measurement) -> int | None:
    """The number of the measurement's safety item (PHQ-9: 9), if its instrument has one."""
    instrument = INSTRUMENTS.get(measurement.instrument)
    return instrument.safety_item if instrument else None


@register.filter
def safety_answer(measurement) -> int | None:
    """The safety item's answer when 1 or more (docs/clinical-definitions.md#safety), else None."""
    if measurement.total_only:
        return None
    return INSTRUMENTS[measurement.instrument].safety_answer(measurement.answers)


@register.filter
def extra_answers(measurement) -> list[tuple[str, int, str]]:
    """Each unscored question answered with the measurement as (question, answer, answer's label)."""
    found = []
    for question in INSTRUMENTS[measurement.instrument].extra_questions:
        answer = getattr(measurement, question.field)
        if answer is not None:
            found.append((question.text, answer, question.answers[answer]))
    return found


@register.filter
def short_date(value) -> str:
    """ "3 Dec" this year, "3 Dec 2025" another; a moment in the viewer's time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date()
    return safety.short_date(value)


@register.inclusion_tag("registry/_safety_facts.html")
def safety_facts(episode, compact: bool = False) -> dict:
    """The episode's safety facts (registry/safety.py). Lists attach them to their episodes
    first (attach_safety_facts: one load for all rows); a page about one patient loads them here.
    compact: a list row, shown only while a safety event awaits the consultant's review."""
    facts = getattr(episode, "safety_facts", None)
    if facts is None:
        facts = safety.safety_facts_for([episode.pk])[episode.pk]
    return {"facts": facts, "compact": compact, "shown": facts.awaits_review if compact else bool(facts)}


@register.filter
def item_answers(measurement) -> list[tuple[int, str, int, str]]:
    """Each item of a measurement as (number, question, answer, answer's label); none for a
    legacy total without answers."""
    if measurement.total_only:
        return []
    instrument = INSTRUMENTS[measurement.instrument]
    return [
        (number, question, answer, instrument.labels_for(number)[answer] if answer is not None else "")
        for number, (question, answer) in enumerate(zip(instrument.items, measurement.answers, strict=True), start=1)
    ]


@register.simple_tag
def timeline_row(entry: dict, can_write: bool) -> str:
    """One row of the patient page's timeline (registry/patient_page.py): a contact with the
    scores taken at it, or a score taken on its own. A tag, as the dashboard's badges: the rows
    drawn by template nodes cost a quarter of a millisecond each."""
    contact = entry["contact"]
    scores = [timeline_score(m, can_write, contact) for m in entry["measurements"]]
    mistaken = contact is not None and contact.is_entered_in_error
    return format_html(
        '<tr class="{}">\n            <td class="text-nowrap">{}{}</td>\n            <td>{}</td>\n'
        '            <td>{}</td>\n            <td class="small">{}</td>\n'
        '            <td class="d-print-none">{}</td>\n          </tr>',
        "entered-in-error text-decoration-line-through text-muted" if mistaken else "",
        f"{entry['date']:%Y-%m-%d}",
        f" {contact.contact_time:%H:%M}" if contact and contact.contact_time else "",
        _what_happened(contact) if contact else _SCORE,
        mark_safe("".join(scores)) if scores else _NO_SCORES,  # each escaped by timeline_score
        _contact_notes(contact) if contact else "",
        format_html(
            '<a class="small" href="{}">entered in error?</a>',
            reverse("registry:contact_entered_in_error", args=[contact.pk]),
        )
        if can_write and contact and not mistaken
        else "",
    )


_SCORE = mark_safe("<strong>Score</strong>")
_NO_SCORES = "\N{EN DASH}"
_NOT_REACHED = mark_safe("<em>not reached</em>")


def _what_happened(contact) -> str:
    return format_html(
        '<strong>{}</strong><br><span class="small">{} · {} · {} · {} min</span>\n                ',
        contact.get_kind_display(),
        contact.get_mode_display(),
        contact.get_with_whom_display(),
        "reached" if contact.reached else _NOT_REACHED,
        contact.minutes,
    )


def _contact_notes(contact) -> str:
    labels = contact.intervention_labels()
    return format_html(
        '{}{}{}\n              <div class="text-muted">by {}</div>{}',
        format_html("<div>{}</div>", ", ".join(labels)) if labels else "",
        linebreaksbr(contact.note, autoescape=True),
        format_html("<div>Next contact: {}</div>", f"{contact.next_contact_on:%Y-%m-%d}")
        if contact.next_contact_on
        else "",
        contact.recorded_by,
        format_html(
            '<div class="text-danger">Entered in error ({}): {}</div>',
            contact.entered_in_error_by,
            contact.entered_in_error_reason,
        )
        if contact.is_entered_in_error
        else "",
    )


@register.simple_tag
def timeline_score(measurement, can_write: bool, contact) -> str:
    """One score in the patient page's timeline: total and band (a screener's risk level), the
    safety item answered above 0, the link to mark a score taken on its own entered in error,
    and every answer folded. A tag: the timeline draws one for each of its scores."""
    instrument = INSTRUMENTS[measurement.instrument]
    mistaken = measurement.is_entered_in_error
    if instrument.has_risk_level:
        value = format_html("<strong>{}</strong>", measurement.band)
    else:
        value = format_html('<strong>{}</strong> <span class="small">{}</span>', measurement.total, measurement.band)
    answer = safety_answer(measurement)
    link = ""
    if can_write and not contact and not mistaken:
        url = reverse("registry:measurement_entered_in_error", args=[measurement.pk])
        link = format_html('<a class="small d-print-none" href="{}">entered in error?</a>', url)
    return format_html(
        '<div class="{}" data-score="{}">{} {}{}{}\n              {}\n              \n{}\n</div>',
        "text-decoration-line-through text-muted" if mistaken else "",
        measurement.instrument,
        instrument.name,
        value,
        format_html(' <span class="badge text-bg-danger">item {}: {}</span>', instrument.safety_item, answer)
        if answer
        else "",
        _TOTAL_ONLY if measurement.total_only else "",
        link,
        folded_answers(measurement),
    )


_TOTAL_ONLY = mark_safe(' <span class="small text-muted">(total only)</span>')


@register.simple_tag
def folded_answers(measurement) -> str:
    """Every item's question and answer of one measurement (item_answers), folded (any score,
    not only flagged ones); the safety item answered above 0 in red. A tag with the wording
    escaped once per instrument, rather than an included template: the timeline draws it for
    each of its scores, and the include cost ten times as much."""
    if measurement.total_only:
        return ""
    instrument = INSTRUMENTS[measurement.instrument]
    questions, labels = _escaped_wording(instrument.code)
    items = "".join(
        f'<li value="{number}"{_DANGER if number == instrument.safety_item and answer else ""}>'
        f"{questions[number - 1]}: <strong>{answer}</strong> ({'' if answer is None else labels[number - 1][answer]})"
        "</li>"
        for number, answer in enumerate(measurement.answers, start=1)
    )
    if not items:
        return ""
    extras = format_html_join("", "<div>{}: <strong>{}</strong> ({})</div>", extra_answers(measurement))
    return format_html(
        '<details class="small item-answers" data-item-answers="{}"><summary>all answers</summary>\n'
        '  <ol class="mb-1 ps-3">{}</ol>\n  {}\n</details>',
        measurement.pk,
        mark_safe(items),  # escaped wording and numbers
        extras,
    )


@functools.cache
def _escaped_wording(code: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """An instrument's questions and each item's answer labels, HTML-escaped (they never change)."""
    instrument = INSTRUMENTS[code]
    numbers = range(1, instrument.item_count + 1)
    return (
        tuple(escape(question) for question in instrument.items),
        tuple(tuple(escape(label) for label in instrument.labels_for(number)) for number in numbers),
    )


_DANGER = ' class="text-danger fw-semibold"'
