"""What the patient page shows of the care app (filled in by the care app's panels)."""


def care_context(episode, user) -> dict:
    return {}
