"""PCL-5 (docs/clinical-definitions.md#instruments): 20 items 0-4, probable PTSD at a clinic's
cut-off of 31-33 (RegistrySettings.pcl5_positive_at)."""

from dataclasses import dataclass

from registry.instruments.base import Instrument

ITEMS = (
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


@dataclass(frozen=True)
class Pcl5(Instrument):
    def cut_off(self, *, sex: str = "unknown", pcl5_positive_at: int = 33) -> int:
        return pcl5_positive_at


PCL5 = Pcl5(
    code="PCL5",
    name="PCL-5",
    items=ITEMS,
    max_answer=4,
    positive_at=33,  # a clinic setting, 31-33 (RegistrySettings.pcl5_positive_at)
    answer_labels=("Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely"),
    answer_loinc=(),
    prompt="In the past month, how much has the patient been bothered by:",
    positive_label="probable PTSD",
    negative_label="below PTSD cut-off",
)
