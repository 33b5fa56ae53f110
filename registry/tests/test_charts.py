"""The score trajectory chart (registry/charts.py): the series drawn in Python land exactly where
the template's loop drew them."""

import datetime
import random
from pathlib import Path

from django.template import Context, Template
from django.template.defaultfilters import floatformat

from registry.charts import HEIGHT, LEFT, RIGHT, TOP, WIDTH, one_decimal, trajectory
from registry.instruments import INSTRUMENTS

# The series as _trajectory.html drew them, a loop of template nodes per point, until 2026-12-07.
TEMPLATE_LOOPS = Path(__file__).parent / "data" / "trajectory_series_before.html"


def test_coordinates_are_rounded_as_the_templates_floatformat_rounds_them():
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - 36
    xs = [LEFT + plot_width * day / (weeks * 7) for weeks in range(4, 80) for day in range(weeks * 7 + 1)]
    ys = [TOP + plot_height * (1 - total / most) for most in (21, 27, 30) for total in range(most + 1)]

    assert [one_decimal(v) for v in xs + ys] == [floatformat(v, 1) for v in xs + ys]
    assert one_decimal(44.25) == "44.3" != f"{44.25:.1f}"  # half up, as the template did


def test_the_series_drawn_in_one_pass_are_the_template_loops_byte_for_byte():
    rng = random.Random(7)
    start = datetime.date(2026, 1, 5)
    scores = [
        (start + datetime.timedelta(days=3 * n), rng.randint(0, 27), rng.choice([0, 0, 0, 1, 3])) for n in range(150)
    ]
    chart = trajectory(INSTRUMENTS["PHQ9"], scores, start)

    drawn = f"{chart.score_dots}|{chart.item9_rings}"

    assert drawn == Template(TEMPLATE_LOOPS.read_text()).render(Context({"chart": chart}))
    assert drawn.count("<circle") == 150 + len(chart.item9_points) > 150
