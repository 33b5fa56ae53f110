"""The score trajectory chart, laid out in Python and drawn as SVG by a template.

Server-side so that it needs no JavaScript library and prints as it shows. The drawing is
640 units wide with 14-unit labels, and the page never draws it narrower than 560 px (it
scrolls inside its own box on a phone), so a label is never smaller than 12 px on screen.

Besides the scores it marks what happened to the treatment: medication started or stopped,
plan changes (passed in as markers by the page, which knows them), and the answers to the
instrument's safety item, PHQ-9 item 9 (from the scores themselves).
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.utils.safestring import SafeString, mark_safe

from registry.instruments import INSTRUMENTS
from registry.instruments.base import Instrument

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 30, 36
LABEL_SIZE = 14  # drawing units; at the narrowest (560 px) a label is 12.25 px
MIN_RENDERED_WIDTH = 560


@dataclass(frozen=True)
class Marker:
    """Something that happened to the treatment on a day: kind is "medication" or "plan"."""

    kind: str
    day: datetime.date
    text: str


MARKER_KINDS = {"medication": "Medication started or stopped", "plan": "Treatment plan changed"}


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    total: int
    taken_on: datetime.date
    item9: int = 0  # the safety item (PHQ-9 item 9) answered 1 or more: drawn as a warning ring


@dataclass(frozen=True)
class PlacedMarker:
    x: float
    marker: Marker


@dataclass(frozen=True)
class Tick:
    position: float
    label: str

    @cached_property
    def at(self) -> str:
        """The position as the template wrote it with floatformat:1, worked out once."""
        return one_decimal(self.position)


@dataclass(frozen=True)
class Chart:
    instrument: Instrument
    points: list[Point]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    response_y: float | None
    remission_y: float | None
    baseline: int
    latest: int
    markers: list[PlacedMarker] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    top: int = TOP
    bottom_edge: int = HEIGHT - BOTTOM
    label_size: int = LABEL_SIZE
    min_rendered_width: int = MIN_RENDERED_WIDTH

    @property
    def plot_width(self) -> int:
        return self.right_edge - self.left

    @property
    def plot_height(self) -> int:
        return self.bottom_edge - self.top

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @cached_property
    def item9_points(self) -> list[Point]:
        return [p for p in self.points if p.item9]

    @cached_property
    def score_dots(self) -> SafeString:
        """A dot for each score, its value, date and safety answer in its tooltip. Written here in
        one pass rather than by a loop of template nodes: a long history has hundreds of points,
        and the loop cost more than the rest of the page. Numbers and dates only: nothing to escape."""
        item = self.instrument.safety_item
        return mark_safe(
            "".join(
                f'\n  <circle cx="{one_decimal(p.x)}" cy="{one_decimal(p.y)}" r="5" fill="#0a58ca">'
                f"<title>{p.total} on {p.taken_on:%Y-%m-%d}{f'; item {item} answered {p.item9}' if p.item9 else ''}"
                "</title></circle>\n  "
                for p in self.points
            )
        )

    @cached_property
    def item9_rings(self) -> SafeString:
        """A red ring around each score whose safety item was answered 1 or more, as score_dots."""
        item = self.instrument.safety_item
        return mark_safe(
            "".join(
                f'\n  <circle class="item9" data-item9="{p.item9}" cx="{one_decimal(p.x)}" cy="{one_decimal(p.y)}"'
                ' r="10" fill="none" stroke="#b02a37" stroke-width="3">'
                f"<title>Item {item} answered {p.item9} on {p.taken_on:%Y-%m-%d}</title></circle>\n  "
                for p in self.item9_points
            )
        )

    @property
    def marker_kinds(self) -> list[tuple[str, str]]:
        """(kind, legend text) of the markers drawn, in a fixed order."""
        drawn = {placed.marker.kind for placed in self.markers}
        return [(kind, text) for kind, text in MARKER_KINDS.items() if kind in drawn]

    @property
    def description(self) -> str:
        scores = ", ".join(
            f"{p.total} on {p.taken_on:%Y-%m-%d}"
            + (f" (item {self.instrument.safety_item} answered {p.item9})" if p.item9 else "")
            for p in self.points
        )
        text = f"{self.instrument.name} scores: {scores}."
        if self.markers:
            events = "; ".join(f"{m.marker.day:%Y-%m-%d}: {m.marker.text}" for m in self.markers)
            text += f" Treatment changes: {events}."
        return text


TENTH = Decimal("0.1")


def one_decimal(value: float) -> str:
    """A coordinate as the template filter floatformat:1 writes it (rounded half up from its
    shortest decimal form, where f"{value:.1f}" rounds the binary value), so that a point drawn
    here sits where the template drew it."""
    return str(Decimal(repr(value)).quantize(TENTH, rounding=ROUND_HALF_UP))


def trajectory(
    instrument: Instrument,
    scores: list[tuple[datetime.date, int]] | list[tuple[datetime.date, int, int]],
    start: datetime.date,
    markers: list[Marker] = (),
) -> Chart | None:
    """Lay out (date, total[, safety item's answer]) scores from the episode start; None when there is nothing to draw.
    Markers outside the scores' span (before the start, after the last score) are left out."""
    if not scores:
        return None
    scores_sorted = sorted((day, total, *rest) for day, total, *rest in scores)
    first_day = min(start, scores_sorted[0][0])
    last_week = max(4, -(-(scores_sorted[-1][0] - first_day).days // 7))
    last_day = first_day + datetime.timedelta(weeks=last_week)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_at(day: datetime.date) -> float:
        return LEFT + plot_w * (day - first_day).days / (last_week * 7)

    def y_at(total: float) -> float:
        return TOP + plot_h * (1 - total / instrument.max_total)

    baseline = scores_sorted[0][1]
    points = [Point(x_at(day), y_at(total), total, day, (rest or [0])[0] or 0) for day, total, *rest in scores_sorted]
    step = max(1, last_week // 8)
    placed = [
        PlacedMarker(x_at(m.day), m) for m in sorted(markers, key=lambda m: m.day) if first_day <= m.day <= last_day
    ]
    return Chart(
        instrument=instrument,
        points=points,
        y_ticks=[Tick(y_at(v), str(v)) for v in range(0, instrument.max_total + 1, 5)],
        x_ticks=[Tick(x_at(first_day + datetime.timedelta(weeks=w)), f"wk {w}") for w in range(0, last_week + 1, step)],
        response_y=y_at(baseline / 2) if baseline else None,
        remission_y=y_at(instrument.remission_below) if instrument.remission_below is not None else None,
        baseline=baseline,
        latest=scores_sorted[-1][1],
        markers=placed,
    )


def episode_charts(episode, measurements, markers: list[Marker] = ()) -> list[Chart]:
    """The chart of each charted instrument (PHQ-9, GAD-7, ...) of which the episode has valid
    scores, with the treatment's markers; the safety item's answers are marked on its own chart."""
    scores = [(m.instrument, m.taken_on, m.total, m.answers) for m in measurements if not m.is_entered_in_error]
    return charts_of_scores(episode.enrolled_on, scores, markers)


def charts_of_scores(
    start: datetime.date, scores: Iterable[tuple[str, datetime.date, int, list[int | None]]], markers: list[Marker] = ()
) -> list[Chart]:
    """episode_charts from the valid scores as (instrument code, date, total, answers) rows, for a
    page that reads only those columns of a long history."""
    by_instrument: dict[str, list[tuple[datetime.date, int, int]]] = {}
    for code, day, total, answers in scores:
        instrument = INSTRUMENTS[code]
        if instrument.charted:
            by_instrument.setdefault(code, []).append((day, total, instrument.safety_answer(answers) or 0))
    charts = []
    for code, instrument in INSTRUMENTS.items():
        chart = trajectory(instrument, by_instrument.get(code, []), start, markers)
        if chart:
            charts.append(chart)
    return charts
