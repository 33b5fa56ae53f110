"""The one table of layers (docs/architecture.md#layering): imports run from a higher layer to a
lower one, never up and never sideways. tests/test_layering.py reads every module's imports and
checks them against this table.
"""

# Modules of the carereg package that depend on no app, so any app may import them. The rest of
# carereg (settings, URLs, middleware, the error page) names every app and sits outside the layers.
APP_FREE = (
    "carereg.lib",
    "carereg.forms",
    "carereg.env",
    "carereg.proxy",
    "carereg.tasks",
    "carereg.dates",
    "carereg.celery",
    "carereg.layers",
)

LAYERS: dict[str, int] = {
    "carereg": 0,  # only its APP_FREE modules
    "accounts": 1,
    "patients": 2,
    "registry": 3,
    "care": 4,
    # Case review sits above the care it reviews: implementing a medication recommendation
    # changes care's medication list in the same transaction, and the review page shows it.
    "consults": 5,
    "interchange": 6,
    "fhirapi": 6,
    "selfreport": 6,
    # The audit app watches every other one: its access log covers self-report links, its
    # history reads every app's rows. A lower app that needs it (the emergency grant that
    # widens a patient's visibility) is told through a registry, as with any higher app.
    "audit": 7,
}


def may_import(importer: str, imported: str) -> bool:
    """Whether code in app `importer` may import from app `imported`: the same app, or a lower layer."""
    return importer == imported or LAYERS[imported] < LAYERS[importer]
