"""Scoring of the symptom measures (clinical-rules 1): pure functions of the item answers.

Nothing here touches the database, so the web form, imports and the FHIR interface all score
with the same code, and the tests check it against the published bands directly.
"""

from dataclasses import dataclass, field

ANSWER_LABELS = ("Not at all", "Several days", "More than half the days", "Nearly every day")
ANSWER_LOINC = ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9")


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    label: str


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    items: tuple[str, ...]
    max_answer: int
    positive_at: int
    bands: tuple[Band, ...] = ()
    item_loinc: tuple[str, ...] = ()
    panel_loinc: str = ""
    total_loinc: str = ""
    answer_labels: tuple[str, ...] = field(default=ANSWER_LABELS)

    @property
    def item_count(self) -> int:
        return len(self.items)

    @property
    def max_total(self) -> int:
        return self.item_count * self.max_answer


@dataclass(frozen=True)
class Score:
    total: int
    band: str
    positive: bool


class ScoringError(ValueError):
    """The answers cannot be scored; the message says which item and why."""


PHQ9_ITEMS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself, or that you are a failure or have let yourself or your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed, or the opposite: "
    "being so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead, or of hurting yourself in some way",
)
PHQ9_DIFFICULTY_QUESTION = (
    "If you checked off any problems, how difficult have these problems made it for you to do "
    "your work, take care of things at home, or get along with other people?"
)
PHQ9_DIFFICULTY_ANSWERS = ("Not difficult at all", "Somewhat difficult", "Very difficult", "Extremely difficult")
GAD7_ITEMS = (
    "Feeling nervous, anxious, or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid, as if something awful might happen",
)

PHQ9 = Instrument(
    code="PHQ9",
    name="PHQ-9",
    items=PHQ9_ITEMS,
    max_answer=3,
    positive_at=10,
    bands=(
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 19, "moderately severe"),
        Band(20, 27, "severe"),
    ),
    item_loinc=(
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    ),
    panel_loinc="44249-1",
    total_loinc="44261-6",
)
GAD7 = Instrument(
    code="GAD7",
    name="GAD-7",
    items=GAD7_ITEMS,
    max_answer=3,
    positive_at=10,
    bands=(Band(0, 4, "minimal"), Band(5, 9, "mild"), Band(10, 14, "moderate"), Band(15, 21, "severe")),
    item_loinc=("69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"),
    panel_loinc="69737-5",
    total_loinc="70274-6",
)
PHQ2 = Instrument(
    code="PHQ2",
    name="PHQ-2",
    items=PHQ9_ITEMS[:2],
    max_answer=3,
    positive_at=3,
    item_loinc=PHQ9.item_loinc[:2],
    panel_loinc="55757-9",
    total_loinc="55758-7",
)
GAD2 = Instrument(
    code="GAD2",
    name="GAD-2",
    items=GAD7_ITEMS[:2],
    max_answer=3,
    positive_at=3,
    item_loinc=GAD7.item_loinc[:2],
)

INSTRUMENTS = {instrument.code: instrument for instrument in (PHQ9, GAD7, PHQ2, GAD2)}
MAX_ITEMS = max(instrument.item_count for instrument in INSTRUMENTS.values())
SAFETY_ITEM = 9  # PHQ-9 item 9: thoughts of death or self-harm (clinical-rules 2)


def band_for(instrument: Instrument, total: int) -> str:
    """The severity band of a total; short forms have none, only a positive or negative screen."""
    if not 0 <= total <= instrument.max_total:
        raise ScoringError(f"{instrument.name} total must be 0-{instrument.max_total}, not {total}.")
    for band in instrument.bands:
        if band.low <= total <= band.high:
            return band.label
    return "positive screen" if total >= instrument.positive_at else "negative screen"


def score(instrument: Instrument, answers: list[int | None]) -> Score:
    """Total, band and screen result of a complete set of item answers."""
    if len(answers) != instrument.item_count:
        raise ScoringError(f"{instrument.name} needs {instrument.item_count} answers, got {len(answers)}.")
    for number, answer in enumerate(answers, start=1):
        if answer is None:
            raise ScoringError(f"{instrument.name} item {number} is not answered.")
        if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer <= instrument.max_answer:
            raise ScoringError(f"{instrument.name} item {number} must be 0-{instrument.max_answer}, not {answer!r}.")
    total = sum(answers)
    return score_total(instrument, total)


def score_total(instrument: Instrument, total: int) -> Score:
    """Band and screen result of a total alone (legacy imports that kept no item answers)."""
    return Score(total=total, band=band_for(instrument, total), positive=total >= instrument.positive_at)


def raises_safety_flag(instrument: Instrument, answers: list[int | None]) -> bool:
    return instrument is PHQ9 and len(answers) >= SAFETY_ITEM and (answers[SAFETY_ITEM - 1] or 0) >= 1


def percent_change(baseline: int | None, latest: int | None) -> int | None:
    """(baseline - latest) / baseline as a whole percent, rounded half up, positive when symptoms fell.

    None when undefined (no scores, or a baseline of 0). Integer arithmetic, so that it agrees
    exactly with the SQL expression the dashboard sorts by (registry.queries.percent_change_sql).
    """
    if baseline in (None, 0) or latest is None:
        return None
    return (200 * (baseline - latest) + baseline) // (2 * baseline)


def is_response(baseline: int | None, latest: int | None) -> bool:
    """>= 50% reduction from baseline (clinical-rules 4)."""
    return baseline not in (None, 0) and latest is not None and (baseline - latest) * 2 >= baseline


def is_remission(latest: int | None) -> bool:
    return latest is not None and latest < 5


def is_improved(baseline: int | None, latest: int | None) -> bool:
    """Clinically significant improvement: latest < 10 or a response (clinical-rules 4)."""
    return latest is not None and (latest < 10 or is_response(baseline, latest))
