"""AUDIT-C (docs/clinical-definitions.md#audit-c): three alcohol questions, each with its own answers."""

from dataclasses import dataclass

from registry.instruments.base import Instrument


def audit_c_cut_off(sex: str) -> int:
    """AUDIT-C positive at >= 4 for men, >= 3 for women (Bush 1998; Bradley 2007).

    For other or unknown sex the lower cut-off applies, so that no at-risk drinker is missed.
    """
    return 4 if sex == "male" else 3


@dataclass(frozen=True)
class AuditC(Instrument):
    def cut_off(self, *, sex: str = "unknown", pcl5_positive_at: int = 33) -> int:
        return audit_c_cut_off(sex)


AUDITC = AuditC(
    code="AUDITC",
    name="AUDIT-C",
    items=(
        "How often do you have a drink containing alcohol?",
        "How many standard drinks containing alcohol do you have on a typical day?",
        "How often do you have six or more drinks on one occasion?",
    ),
    max_answer=4,
    positive_at=4,  # men; women 3: see audit_c_cut_off
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
