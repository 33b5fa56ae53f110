"""The patient page's panels from the apps above patients, registered when Django is ready
(registry/contributions.py, care/contributions.py, consults/contributions.py), so the page never
names them (docs/architecture.md#layering).

A panel is called with the request, the episode shown and the page's context so far, and returns
what it adds to the context. Panels run in their order, each seeing what the ones before added:
the registry's contacts, scores and flags (10), the plans (20), the case reviews (30), care (40),
and last the registry's charts (90), which draw the markers the others left in `chart_markers`.
"""

from collections.abc import Callable

from django.http import HttpRequest

from patients.models import Episode

Panel = Callable[[HttpRequest, Episode, dict], dict]
PANELS: list[tuple[int, Panel]] = []


def register_panel(order: int, panel: Panel) -> None:
    PANELS.append((order, panel))
    PANELS.sort(key=lambda registered: registered[0])


def panels_context(request: HttpRequest, episode: Episode, context: dict) -> dict:
    context = {**context, "chart_markers": []}
    for _order, panel in PANELS:
        context.update(panel(request, episode, context))
    return context
