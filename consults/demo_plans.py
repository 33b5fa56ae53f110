"""Plans for the synthetic demo registry: initial assessments, treatment plans with their
changes (those from an implemented recommendation linked to it), and relapse prevention plans
for every episode in relapse prevention or discharged with treatment goals met (the rule the
app enforces: docs/clinical-definitions.md#episodes-and-status). Deterministic: choices follow each
episode's position."""

import datetime

from carereg.lib.bulk import bulk_create_with_history
from consults.models import COMMON_DIAGNOSES, Recommendation
from consults.plan_changes import reason_from
from patients.models import Episode, InitialAssessment, PlanChange, RelapsePreventionPlan, TreatmentPlan
from registry.models import Contact

PROBLEMS = [
    "Low mood and loss of interest for two months; poor sleep; trouble keeping up at work.",
    "Worry most days, tense and irritable; panic-like episodes at the grocery store.",
    "Low energy and tearfulness since a job loss; withdrawing from friends.",
    "Sadness after a bereavement that has not eased; appetite down, sleeping badly.",
]
DIAGNOSES = [["F32.1"], ["F41.1"], ["F33.1", "F41.1"], ["F43.23"], ["F33.0"]]
GOALS = [
    "Get back to walking with my sister in the mornings.",
    "Sleep through the night and stop dreading work.",
    "Enjoy time with my grandchildren again.",
    "Feel calm enough to drive to the store on my own.",
]
# Without a medication; with one, the plan names the medication the demo's care rows record.
TREATMENTS_WITHOUT_MEDICATION = [
    "Problem-solving treatment, 6 sessions; no medication (patient's choice).",
    "Behavioral activation with the care manager; psychoeducation; weekly calls; no medication for now.",
]
TREATMENTS_WITH_MEDICATION = [
    "{medication} (PCP); behavioral activation with the care manager.",
    "{medication} (PCP); psychoeducation; weekly calls.",
]


def current_treatments(episode, index: int) -> str:
    """What the plan says the patient is treated with: the medication care.demo gave the
    episode (its `_medication`, the latest one), or a plan without medication."""
    medication = getattr(episode, "_medication", None)
    if medication is None:
        return TREATMENTS_WITHOUT_MEDICATION[index % len(TREATMENTS_WITHOUT_MEDICATION)]
    text = f"{medication.name.capitalize()} {medication.dose} {medication.instructions}"
    if medication.stopped_on:
        text += f" until {medication.stopped_on:%Y-%m-%d}"
    return TREATMENTS_WITH_MEDICATION[index % len(TREATMENTS_WITH_MEDICATION)].format(medication=text)


def _label(code: str) -> dict:
    return {"code": code, "label": COMMON_DIAGNOSES.get(code, "")}


def add_demo_plans(rows, *, by, today: datetime.date) -> None:
    """Plans for the demo's episodes (already saved, with their ids), written as `by`."""
    assessed_on: dict[int, datetime.date] = {}
    last_contact_on: dict[int, datetime.date] = {}
    for contact in rows.contacts:
        if not contact.reached:
            continue
        index = contact._episode_index
        if contact.kind == Contact.Kind.INITIAL_ASSESSMENT:
            assessed_on.setdefault(index, contact.contact_date)
        last_contact_on[index] = max(last_contact_on.get(index, contact.contact_date), contact.contact_date)
    assessments, plans, changes, relapse_plans = [], [], [], []
    for index, episode in enumerate(rows.episodes):
        if index not in assessed_on:
            continue  # still waiting for the initial assessment
        care_manager = rows.patients[episode._patient_index].care_manager
        on = assessed_on[index]
        assessments.append(
            InitialAssessment(
                episode=episode,
                presenting_problems=PROBLEMS[index % len(PROBLEMS)],
                diagnoses=[_label(code) for code in DIAGNOSES[index % len(DIAGNOSES)]],
                alcohol_use=["None", "2-3 drinks a week", "Weekends, 4-5 drinks"][index % 3],
                tobacco_use=["Never", "Quit 2019", "Half a pack a day"][index % 3],
                cannabis_use=["None", "Occasionally to sleep"][index % 2],
                other_drug_use="None",
                current_suicidal_ideation=False,
                past_suicide_attempts=index % 11 == 0,
                access_to_means=index % 7 == 0,
                safety_notes="No current thoughts of self-harm; 988 given.",
                stressors=["Job loss", "Caring for a parent", "Divorce", "Chronic back pain"][index % 4],
                supports=["Sister nearby", "Church group", "Partner", "Few supports"][index % 4],
                patient_goals=GOALS[index % len(GOALS)],
                completed_on=on,
                completed_by=care_manager,
            )
        )
        plans.append(
            TreatmentPlan(
                episode=episode,
                goals=GOALS[index % len(GOALS)],
                target=TreatmentPlan.DEFAULT_TARGET,
                current_treatments=current_treatments(episode, index),
                updated_by=care_manager,
            )
        )
        if index % 4 == 1 and (episode.discharged_on or today) - on >= datetime.timedelta(days=70):
            changes.append(
                PlanChange(
                    episode=episode,
                    changed_on=on + datetime.timedelta(days=70),
                    reason="Not improving at 10 weeks: more frequent behavioral activation sessions.",
                    what_changed="Behavioral activation calls weekly instead of every two weeks.",
                    recorded_by=care_manager,
                )
            )
        goals_met = episode.discharge_reason == Episode.DischargeReason.GOALS_MET
        if episode.status == Episode.Status.RELAPSE_PREVENTION or goals_met:
            completed = min(episode.discharged_on or today, last_contact_on.get(index, on))
            relapse_plans.append(
                RelapsePreventionPlan(
                    episode=episode,
                    warning_signs="Sleeping badly for a week; skipping walks; not answering friends' calls.",
                    coping_strategies="Morning walk; call my sister; keep the weekly schedule; breathing exercise.",
                    maintenance_treatment="Keep taking the medication for at least 6 to 12 months after feeling well; "
                    "do not stop it without talking to the doctor.",
                    contacts=f"Care manager {care_manager.get_full_name()} at the clinic; my sister.",
                    when_to_come_back="If the warning signs last more than two weeks, or a PHQ-9 is 10 or more.",
                    completed_on=max(completed, episode.enrolled_on),
                    completed_by=care_manager,
                )
            )
    for recommendation in rows.recommendations:
        if recommendation.status == Recommendation.Status.IMPLEMENTED:
            reason, what = reason_from(recommendation)
            changes.append(
                PlanChange(
                    episode=recommendation.episode,
                    changed_on=recommendation.implemented_on,
                    reason=reason,
                    what_changed=what,
                    recommendation=recommendation,
                    recorded_by=recommendation.implemented_by,
                )
            )
    for model_rows in (assessments, plans, changes, relapse_plans):
        bulk_create_with_history(model_rows, by=by)
