"""What an instrument is (docs/clinical-definitions.md#instruments): declared once, asked everywhere.

An instrument module declares its items, their wording in each language, the answers, the
scoring and bands, the cut-off, the safety rule and the exchange codes. The rest of the
registry (forms, templates, the self-report, FHIR, imports, charts, the demo) asks the
instrument and never tests its code. Nothing here touches the database.
"""

import datetime
from dataclasses import dataclass

FREQUENCY_ANSWERS = ("Not at all", "Several days", "More than half the days", "Nearly every day")
# LOINC answer list LL358-3, in the order of FREQUENCY_ANSWERS (0-3).
FREQUENCY_ANSWER_LOINC = ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9")
ENGLISH = "en"


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    label: str


@dataclass(frozen=True)
class Score:
    total: int
    band: str
    positive: bool


class ScoringError(ValueError):
    """The answers cannot be scored; the message says which item and why."""


@dataclass(frozen=True)
class Wording:
    """What a patient reads of an instrument in one language: its title, the question that
    leads the items, the items and the answers (one tuple of labels for every item, or one
    per item)."""

    language: str
    name: str
    question: str
    items: tuple[str, ...]
    answer_labels: tuple[str, ...] = ()
    item_answer_labels: tuple[tuple[str, ...], ...] = ()

    def labels_for(self, number: int) -> tuple[str, ...]:
        return self.item_answer_labels[number - 1] if self.item_answer_labels else self.answer_labels


@dataclass(frozen=True)
class ExtraQuestion:
    """An unscored question asked with the items (PHQ-9's difficulty question). Its answer is
    kept in the Measurement column `field`, never added to the total."""

    field: str
    text: str
    answers: tuple[str, ...]
    loinc: str = ""
    answer_loinc: tuple[str, ...] = ()
    # Other languages: (language, text, answers).
    translations: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    @property
    def max_answer(self) -> int:
        return len(self.answers) - 1

    @property
    def link_id(self) -> str:
        """Its FHIR linkId: the LOINC code, or the column's name where LOINC has none we could verify."""
        return self.loinc or self.field

    def wording(self, language: str) -> tuple[str, tuple[str, ...]]:
        for lang, text, answers in self.translations:
            if lang == language:
                return text, answers
        return self.text, self.answers


@dataclass(frozen=True)
class Instrument:
    """A questionnaire scored by summing its items; subclasses change what differs (the
    C-SSRS's risk level, the AUDIT-C's cut-off by sex)."""

    code: str
    name: str
    items: tuple[str, ...]
    max_answer: int
    positive_at: int
    bands: tuple[Band, ...] = ()
    item_loinc: tuple[str, ...] = ()
    panel_loinc: str = ""
    total_loinc: str = ""
    answer_labels: tuple[str, ...] = FREQUENCY_ANSWERS
    # LOINC answer codes of answer_labels; empty where LOINC has none we could verify (answers go as integers).
    answer_loinc: tuple[str, ...] = FREQUENCY_ANSWER_LOINC
    # Where the answers differ from item to item (AUDIT-C, C-SSRS): one tuple of labels per item.
    item_answer_labels: tuple[tuple[str, ...], ...] = ()
    prompt: str = "Over the last 2 weeks, how often has the patient been bothered by any of the following problems?"
    positive_label: str = "positive screen"
    negative_label: str = "negative screen"
    # A total alone says nothing for an instrument whose result depends on which item was answered.
    total_only_allowed: bool = True
    # The item whose answer of 1 or more raises the safety flag (docs/clinical-definitions.md#safety).
    safety_item: int | None = None
    extra_questions: tuple[ExtraQuestion, ...] = ()
    # What the patient reads, per language; the self-report offers the instrument when there is any.
    translations: tuple[Wording, ...] = ()
    # The PHQ-9 is always offered; the others a clinic switches on (docs/admin-guide.md).
    optional: bool = True
    enabled_by_default: bool = True
    # Drawn as a trajectory on the patient's page (registry/charts.py), with a remission line
    # below this total where the instrument defines one.
    charted: bool = False
    remission_below: int | None = None
    # Exchanged by the FHIR interface (docs/fhir.md): needs panel and total codes.
    fhir: bool = False
    # The result is a risk level, not a total to read (the C-SSRS).
    has_risk_level: bool = False

    # --- shape -------------------------------------------------------------------------
    @property
    def asked_at_each_contact(self) -> bool:
        """A measure of change (the charted ones) is offered on the contact form, to be asked at
        every contact (docs/clinical-definitions.md#instruments); screeners have their own page."""
        return self.charted

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

    # --- wording -----------------------------------------------------------------------
    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(wording.language for wording in self.translations)

    @property
    def self_report(self) -> bool:
        return ENGLISH in self.languages

    def wording(self, language: str = ENGLISH) -> Wording:
        """The patient's wording in `language`, else in English, else the clinician's."""
        by_language = {wording.language: wording for wording in self.translations}
        found = by_language.get(language) or by_language.get(ENGLISH)
        if found:
            return found
        return Wording(ENGLISH, self.name, self.prompt, self.items, self.answer_labels, self.item_answer_labels)

    def extra_question(self, field: str) -> ExtraQuestion | None:
        return next((question for question in self.extra_questions if question.field == field), None)

    # --- exchange codes ----------------------------------------------------------------
    @property
    def item_link_ids(self) -> tuple[str, ...]:
        """FHIR linkIds of the items: their LOINC codes, or "item-N" where LOINC has none we could verify."""
        return self.item_loinc or tuple(f"item-{number}" for number in range(1, self.item_count + 1))

    def answer_codes_for(self, number: int) -> tuple[str, ...]:
        """LOINC answer codes of item `number`, in score order; empty when answers go as integers."""
        return self.answer_loinc if self.same_answers_for_all_items else ()

    # --- scoring -----------------------------------------------------------------------
    def cut_off(self, *, sex: str = "unknown", pcl5_positive_at: int = 33) -> int:
        """The positive-screen threshold for this patient and clinic."""
        return self.positive_at

    def band_for(self, total: int, positive_at: int | None = None) -> str:
        """The severity band of a total; short forms have none, only a positive or negative screen."""
        if not 0 <= total <= self.max_total:
            raise ScoringError(f"{self.name} total must be 0-{self.max_total}, not {total}.")
        for band in self.bands:
            if band.low <= total <= band.high:
                return band.label
        threshold = self.positive_at if positive_at is None else positive_at
        return self.positive_label if total >= threshold else self.negative_label

    def check_answers(self, answers: list[int | None]) -> list[int]:
        """The answers, each checked to be there and in range; a ScoringError names the first that is not."""
        if len(answers) != self.item_count:
            raise ScoringError(f"{self.name} needs {self.item_count} answers, got {len(answers)}.")
        checked = []
        for number, answer in enumerate(answers, start=1):
            if answer is None:
                raise ScoringError(f"{self.name} item {number} is not answered.")
            highest = self.max_for(number)
            if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer <= highest:
                raise ScoringError(f"{self.name} item {number} must be 0-{highest}, not {answer!r}.")
            checked.append(answer)
        return checked

    def score(self, answers: list[int | None], *, positive_at: int | None = None) -> Score:
        """Total, band and screen result of a complete set of item answers."""
        return self._score_total(sum(self.check_answers(answers)), positive_at)

    def score_total(self, total: int, *, positive_at: int | None = None) -> Score:
        """Band and screen result of a total alone (legacy imports that kept no item answers)."""
        if not self.total_only_allowed:
            raise ScoringError(f"{self.name} is scored from its answers; a total alone cannot be scored.")
        return self._score_total(total, positive_at)

    def _score_total(self, total: int, positive_at: int | None) -> Score:
        threshold = self.positive_at if positive_at is None else positive_at
        return Score(total=total, band=self.band_for(total, threshold), positive=total >= threshold)

    # --- safety ------------------------------------------------------------------------
    def raises_safety_flag(self, answers: list[int | None]) -> bool:
        """The safety item answered 1 or more (docs/clinical-definitions.md#safety)."""
        number = self.safety_item
        return number is not None and len(answers) >= number and (answers[number - 1] or 0) >= 1

    def safety_reason(self, answers: list[int], taken_on: datetime.date) -> str:
        """The flag's reason, as saved with it."""
        number = self.safety_item
        if number is None:
            raise ValueError(f"{self.name} has no safety item: it raises no flag to give a reason for.")
        return f"{self.name} item {number} answered {answers[number - 1]} on {taken_on:%Y-%m-%d}."

    def safety_answer(self, answers: list[int | None]) -> int | None:
        """The safety item's answer when it is 1 or more (shown beside the score), else None."""
        if self.safety_item is None or len(answers) < self.safety_item:
            return None
        return answers[self.safety_item - 1] or None

    def safety_summary(self, answers: list[int | None], total: int, band: str, when: str) -> str:
        """ "PHQ-9 item 9 = 2 on 3 Dec": the answer that raised a flag, as lists show it."""
        if self.safety_item is not None:
            return f"{self.name} item {self.safety_item} = {answers[self.safety_item - 1]} on {when}"
        return f"{self.name} {total} on {when}"
