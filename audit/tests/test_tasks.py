"""Celery task arguments are ids only: a broker's queue and a worker's log are no place for PHI."""

import inspect

from carereg.celery import app


def our_tasks() -> dict:
    app.loader.import_default_modules()  # autodiscovery: every app's tasks module
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_task_takes_ids_or_nothing():
    tasks = our_tasks()
    assert {"registry.tasks.refresh_episode_flags", "consults.tasks.build_due_agendas"} <= set(tasks)

    for name, task in tasks.items():
        for parameter in inspect.signature(task.run).parameters.values():
            assert parameter.name.endswith(("_id", "_ids")), f"{name}({parameter.name}): pass ids, not records"
            assert parameter.annotation in (int, list[int]), f"{name}({parameter.name}) must be an int or list[int]"
