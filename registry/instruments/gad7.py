"""GAD-7 (docs/clinical-definitions.md#instruments): Spitzer et al., Arch Intern Med 2006;166:1092-1097.
The Spanish wording is the published US Spanish version (Pfizer, PHQ Screeners)."""

from registry.definitions.remission import REMISSION_BELOW
from registry.instruments.base import FREQUENCY_ANSWERS, Band, Instrument, Wording
from registry.instruments.phq9 import FREQUENCY_ANSWERS_ES, QUESTION, QUESTION_ES

ITEMS = (
    "Feeling nervous, anxious, or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid, as if something awful might happen",
)
ITEMS_ES = (
    "Se ha sentido nervioso(a), ansioso(a) o con los nervios de punta",
    "No ha sido capaz de parar o controlar su preocupación",
    "Se ha preocupado demasiado por motivos diferentes",
    "Ha tenido dificultad para relajarse",
    "Se ha sentido tan inquieto(a) que no ha podido quedarse quieto(a)",
    "Se ha molestado o irritado fácilmente",
    "Ha tenido miedo de que algo terrible fuera a pasar",
)

GAD7 = Instrument(
    code="GAD7",
    name="GAD-7",
    items=ITEMS,
    max_answer=3,
    positive_at=10,
    bands=(Band(0, 4, "minimal"), Band(5, 9, "mild"), Band(10, 14, "moderate"), Band(15, 21, "severe")),
    item_loinc=("69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"),
    panel_loinc="69737-5",
    total_loinc="70274-6",
    translations=(
        Wording("en", "Worry and anxiety (GAD-7)", QUESTION, ITEMS, FREQUENCY_ANSWERS),
        Wording("es", "Preocupación y ansiedad (GAD-7)", QUESTION_ES, ITEMS_ES, FREQUENCY_ANSWERS_ES),
    ),
    charted=True,
    remission_below=REMISSION_BELOW,
    fhir=True,
)
