"""The score trajectory chart, laid out in Python and drawn as SVG by a template.

Server-side so that it needs no JavaScript library and prints as it shows.
"""

import datetime
from dataclasses import dataclass

from registry.scoring import GAD7, PHQ9, Instrument

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 16, 12, 32
REMISSION_BELOW = 5


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    total: int
    taken_on: datetime.date


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    instrument: Instrument
    points: list[Point]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    response_y: float | None
    remission_y: float
    baseline: int
    latest: int
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    top: int = TOP
    bottom_edge: int = HEIGHT - BOTTOM

    @property
    def plot_width(self) -> int:
        return self.right_edge - self.left

    @property
    def plot_height(self) -> int:
        return self.bottom_edge - self.top

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def description(self) -> str:
        scores = ", ".join(f"{p.total} on {p.taken_on:%Y-%m-%d}" for p in self.points)
        return f"{self.instrument.name} scores: {scores}."


def trajectory(instrument: Instrument, scores: list[tuple[datetime.date, int]], start: datetime.date) -> Chart | None:
    """Lay out (date, total) scores from the episode start; None when there is nothing to draw."""
    if not scores:
        return None
    scores_sorted = sorted(scores)
    first_day = min(start, scores_sorted[0][0])
    last_week = max(4, -(-(scores_sorted[-1][0] - first_day).days // 7))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_at(day: datetime.date) -> float:
        return LEFT + plot_w * (day - first_day).days / (last_week * 7)

    def y_at(total: float) -> float:
        return TOP + plot_h * (1 - total / instrument.max_total)

    baseline = scores_sorted[0][1]
    points = [Point(x_at(day), y_at(total), total, day) for day, total in scores_sorted]
    step = max(1, last_week // 8)
    return Chart(
        instrument=instrument,
        points=points,
        y_ticks=[Tick(y_at(v), str(v)) for v in range(0, instrument.max_total + 1, 5)],
        x_ticks=[Tick(x_at(first_day + datetime.timedelta(weeks=w)), f"wk {w}") for w in range(0, last_week + 1, step)],
        response_y=y_at(baseline / 2) if baseline else None,
        remission_y=y_at(REMISSION_BELOW),
        baseline=baseline,
        latest=scores_sorted[-1][1],
    )


def episode_charts(episode, measurements) -> list[Chart]:
    """The PHQ-9 and GAD-7 charts of an episode's valid scores, where it has any."""
    charts = []
    for instrument in (PHQ9, GAD7):
        scores = [
            (m.taken_on, m.total) for m in measurements if m.instrument == instrument.code and not m.is_entered_in_error
        ]
        chart = trajectory(instrument, scores, episode.enrolled_on)
        if chart:
            charts.append(chart)
    return charts
