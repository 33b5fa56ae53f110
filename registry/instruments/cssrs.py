"""C-SSRS screener (docs/clinical-definitions.md#c-ssrs-screener): six yes/no questions whose
result is a risk level, not a total; high risk raises the safety flag."""

import datetime
from dataclasses import dataclass

from registry.instruments.base import Instrument, Score

YES_NO = ("No", "Yes")


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


@dataclass(frozen=True)
class ColumbiaScreener(Instrument):
    def score(self, answers: list[int | None], *, positive_at: int | None = None) -> Score:
        checked = self.check_answers(answers)
        risk = cssrs_risk(checked)
        return Score(total=sum(checked), band=risk, positive=risk != self.negative_label)

    def raises_safety_flag(self, answers: list[int | None]) -> bool:
        """A high-risk answer (docs/clinical-definitions.md#safety)."""
        if len(answers) != self.item_count or None in answers:
            return False
        return cssrs_risk([answer or 0 for answer in answers]) == "high risk"

    def safety_reason(self, answers: list[int], taken_on: datetime.date) -> str:
        said_yes = [str(number) for number, answer in enumerate(answers, start=1) if answer]
        return f"C-SSRS high risk on {taken_on:%Y-%m-%d} (yes to question {', '.join(said_yes)})."

    def safety_answer(self, answers: list[int | None]) -> int | None:
        return None  # the risk level is shown instead

    def safety_summary(self, answers: list[int | None], total: int, band: str, when: str) -> str:
        return f"{self.name} {band} on {when}"


CSSRS = ColumbiaScreener(
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
    has_risk_level=True,
)
