"""Scoring of the symptom measures (docs/clinical-definitions.md#instruments): pure functions of the item answers.

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
    # Where the answers differ from item to item (AUDIT-C, C-SSRS): one tuple of labels per item.
    item_answer_labels: tuple[tuple[str, ...], ...] = ()
    prompt: str = "Over the last 2 weeks, how often has the patient been bothered by any of the following problems?"
    positive_label: str = "positive screen"
    negative_label: str = "negative screen"
    # A total alone says nothing for an instrument whose result depends on which item was answered.
    total_only_allowed: bool = True

    @property
    def item_count(self) -> int:
        return len(self.items)

    def labels_for(self, number: int) -> tuple[str, ...]:
        """The answer labels of item `number` (1-based)."""
        return self.item_answer_labels[number - 1] if self.item_answer_labels else self.answer_labels

    def max_for(self, number: int) -> int:
        return len(self.labels_for(number)) - 1 if self.item_answer_labels else self.max_answer

    @property
    def max_total(self) -> int:
        return sum(self.max_for(number) for number in range(1, self.item_count + 1))

    @property
    def same_answers_for_all_items(self) -> bool:
        return not self.item_answer_labels


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

AUDITC = Instrument(
    code="AUDITC",
    name="AUDIT-C",
    items=(
        "How often do you have a drink containing alcohol?",
        "How many standard drinks containing alcohol do you have on a typical day?",
        "How often do you have six or more drinks on one occasion?",
    ),
    max_answer=4,
    positive_at=4,  # men; women 3 (docs/clinical-definitions.md#audit-c): see audit_c_cut_off
    item_answer_labels=(
        ("Never", "Monthly or less", "2-4 times a month", "2-3 times a week", "4 or more times a week"),
        ("1 or 2", "3 or 4", "5 or 6", "7 to 9", "10 or more"),
        ("Never", "Less than monthly", "Monthly", "Weekly", "Daily or almost daily"),
    ),
    prompt="Alcohol use in the past year.",
    item_loinc=("68518-0", "68519-8", "68520-6"),
    panel_loinc="72109-2",
    total_loinc="75626-2",
)
YES_NO = ("No", "Yes")
CSSRS = Instrument(
    code="CSSRS",
    name="C-SSRS screener",
    items=(
        "Have you wished you were dead or wished you could go to sleep and not wake up?",
        "Have you actually had any thoughts about killing yourself?",
        "Have you thought about how you might do this?",
        "Have you had any intention of acting on these thoughts of killing yourself, as opposed to "
        "having the thoughts but definitely not acting on them?",
        "Have you started to work out or worked out the details of how to kill yourself? "
        "Do you intend to carry out this plan?",
        "Have you done anything, started to do anything, or prepared to do anything to end your life?",
    ),
    max_answer=2,
    positive_at=1,
    item_answer_labels=(
        YES_NO,
        YES_NO,
        YES_NO,
        YES_NO,
        YES_NO,
        ("No", "Yes, more than 3 months ago", "Yes, in the past 3 months"),
    ),
    prompt="In the past month (question 6: ever, and when). If question 2 is No, questions 3-5 are "
    "not asked: answer No.",
    positive_label="risk",
    negative_label="no risk identified",
    total_only_allowed=False,
)
PCL5_ITEMS = (
    "Repeated, disturbing, and unwanted memories of the stressful experience",
    "Repeated, disturbing dreams of the stressful experience",
    "Suddenly feeling or acting as if the stressful experience were actually happening again",
    "Feeling very upset when something reminded you of the stressful experience",
    "Having strong physical reactions when something reminded you of the stressful experience",
    "Avoiding memories, thoughts, or feelings related to the stressful experience",
    "Avoiding external reminders of the stressful experience",
    "Trouble remembering important parts of the stressful experience",
    "Having strong negative beliefs about yourself, other people, or the world",
    "Blaming yourself or someone else for the stressful experience or what happened after it",
    "Having strong negative feelings such as fear, horror, anger, guilt, or shame",
    "Loss of interest in activities that you used to enjoy",
    "Feeling distant or cut off from other people",
    "Trouble experiencing positive feelings",
    "Irritable behavior, angry outbursts, or acting aggressively",
    "Taking too many risks or doing things that could cause you harm",
    "Being superalert or watchful or on guard",
    "Feeling jumpy or easily startled",
    "Having difficulty concentrating",
    "Trouble falling or staying asleep",
)
PCL5 = Instrument(
    code="PCL5",
    name="PCL-5",
    items=PCL5_ITEMS,
    max_answer=4,
    positive_at=33,  # a clinic setting, 31-33 (RegistrySettings.pcl5_positive_at)
    answer_labels=("Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely"),
    prompt="In the past month, how much has the patient been bothered by:",
    positive_label="probable PTSD",
    negative_label="below PTSD cut-off",
)

INSTRUMENTS = {instrument.code: instrument for instrument in (PHQ9, GAD7, PHQ2, GAD2, AUDITC, CSSRS, PCL5)}
MAX_ITEMS = max(instrument.item_count for instrument in INSTRUMENTS.values())
SAFETY_ITEM = 9  # PHQ-9 item 9: thoughts of death or self-harm (docs/clinical-definitions.md#safety)
# Instruments a clinic may switch off for its care managers; the PHQ-9 is the registry's main
# measure and is always offered.
OPTIONAL_INSTRUMENTS = ("GAD7", "PHQ2", "GAD2", "AUDITC", "CSSRS", "PCL5")


def audit_c_cut_off(sex: str) -> int:
    """AUDIT-C positive at >= 4 for men, >= 3 for women (Bush 1998; Bradley 2007).

    For other or unknown sex the lower cut-off applies, so that no at-risk drinker is missed.
    """
    return 4 if sex == "male" else 3


def cut_off(instrument: Instrument, *, sex: str = "unknown", pcl5_positive_at: int = 33) -> int:
    """The positive-screen threshold for this patient and clinic."""
    if instrument is AUDITC:
        return audit_c_cut_off(sex)
    if instrument is PCL5:
        return pcl5_positive_at
    return instrument.positive_at


def cssrs_risk(answers: list[int]) -> str:
    """Columbia triage of the screener: high, moderate, low risk, or none
    (docs/clinical-definitions.md#c-ssrs-screener).

    High: yes to 4 or 5, or suicidal behaviour in the past 3 months. Moderate: yes to 3, or
    behaviour more than 3 months ago. Low: yes to 1 or 2 only.
    """
    wish, thoughts, method, intent, plan, behaviour = answers
    if intent or plan or behaviour == 2:
        return "high risk"
    if method or behaviour == 1:
        return "moderate risk"
    if wish or thoughts:
        return "low risk"
    return CSSRS.negative_label


def band_for(instrument: Instrument, total: int, positive_at: int | None = None) -> str:
    """The severity band of a total; short forms have none, only a positive or negative screen."""
    if not 0 <= total <= instrument.max_total:
        raise ScoringError(f"{instrument.name} total must be 0-{instrument.max_total}, not {total}.")
    for band in instrument.bands:
        if band.low <= total <= band.high:
            return band.label
    threshold = instrument.positive_at if positive_at is None else positive_at
    return instrument.positive_label if total >= threshold else instrument.negative_label


def score(instrument: Instrument, answers: list[int | None], *, positive_at: int | None = None) -> Score:
    """Total, band and screen result of a complete set of item answers.

    positive_at overrides the instrument's cut-off where it depends on the patient or the
    clinic (AUDIT-C by sex, PCL-5 by setting): see cut_off.
    """
    if len(answers) != instrument.item_count:
        raise ScoringError(f"{instrument.name} needs {instrument.item_count} answers, got {len(answers)}.")
    for number, answer in enumerate(answers, start=1):
        if answer is None:
            raise ScoringError(f"{instrument.name} item {number} is not answered.")
        highest = instrument.max_for(number)
        if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer <= highest:
            raise ScoringError(f"{instrument.name} item {number} must be 0-{highest}, not {answer!r}.")
    total = sum(answers)
    if instrument is CSSRS:
        risk = cssrs_risk(answers)
        return Score(total=total, band=risk, positive=risk != CSSRS.negative_label)
    return score_total(instrument, total, positive_at=positive_at)


def score_total(instrument: Instrument, total: int, *, positive_at: int | None = None) -> Score:
    """Band and screen result of a total alone (legacy imports that kept no item answers)."""
    if not instrument.total_only_allowed:
        raise ScoringError(f"{instrument.name} is scored from its answers; a total alone cannot be scored.")
    threshold = instrument.positive_at if positive_at is None else positive_at
    return Score(total=total, band=band_for(instrument, total, threshold), positive=total >= threshold)


def raises_safety_flag(instrument: Instrument, answers: list[int | None]) -> bool:
    """PHQ-9 item 9 >= 1, or a C-SSRS high-risk answer (docs/clinical-definitions.md#safety)."""
    if instrument is CSSRS:
        return len(answers) == CSSRS.item_count and None not in answers and cssrs_risk(answers) == "high risk"
    return instrument is PHQ9 and len(answers) >= SAFETY_ITEM and (answers[SAFETY_ITEM - 1] or 0) >= 1


def safety_reason(instrument: Instrument, answers: list[int], taken_on) -> str:
    if instrument is CSSRS:
        said_yes = [str(number) for number, answer in enumerate(answers, start=1) if answer]
        return f"C-SSRS high risk on {taken_on:%Y-%m-%d} (yes to question {', '.join(said_yes)})."
    return f"PHQ-9 item {SAFETY_ITEM} answered {answers[SAFETY_ITEM - 1]} on {taken_on:%Y-%m-%d}."


# The outcome definitions live in registry/definitions, one module each, beside their SQL forms
# (docs/clinical-definitions.md#baseline-latest-and-change); importable from here as before.
from registry.definitions.change import percent_change  # noqa: E402, F401
from registry.definitions.improvement import is_improved  # noqa: E402, F401
from registry.definitions.remission import is_remission  # noqa: E402, F401
from registry.definitions.response import is_response  # noqa: E402, F401
