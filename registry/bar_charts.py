"""Bar charts for the reports, laid out in Python and drawn as SVG by a template (no library, no CDN)."""

from dataclasses import dataclass

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 12, 36


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value_text: str


@dataclass(frozen=True)
class BarChart:
    key: str
    title: str
    bars: list[Bar]
    top_label: str
    target_y: float | None = None
    target_label: str = ""
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    top: int = TOP
    bottom_edge: int = HEIGHT - BOTTOM

    @property
    def description(self) -> str:
        return f"{self.title}: " + ", ".join(f"{bar.label} {bar.value_text}" for bar in self.bars) + "."


def bar_chart(
    key: str,
    title: str,
    values: list[tuple[str, float | None]],
    *,
    percent: bool = False,
    target: float | None = None,
) -> BarChart:
    """One bar per (label, value); a missing value (no denominator) draws no bar and says so."""
    highest = 100.0 if percent else max([v for _, v in values if v is not None] + [1])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(values), 1)

    def y_at(value: float) -> float:
        return TOP + plot_h * (1 - value / highest)

    bars = []
    for i, (label, value) in enumerate(values):
        shown = 0.0 if value is None else value
        text = "no data" if value is None else (f"{value:.0f}%" if percent else f"{value:g}")
        bars.append(Bar(LEFT + i * slot + slot * 0.15, y_at(shown), slot * 0.7, plot_h * shown / highest, label, text))
    return BarChart(
        key=key,
        title=title,
        bars=bars,
        top_label="100%" if percent else f"{highest:g}",
        target_y=y_at(target) if target is not None else None,
        target_label=f"target {target:g}%" if target is not None else "",
    )
