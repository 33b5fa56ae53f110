"""The care app's part of the synthetic demo registry: medications with what patients said
about them, intervention sessions, referrals (some waiting too long) and education given.

Built from the rows registry.demo has just saved (episodes and contacts, with their ids), with
its own random stream so that the registry's demo stays as it was; deterministic for a seed
and a day. Everything is written with bulk inserts, history rows included.
"""

import datetime
import random
from collections import defaultdict

from accounts.models import User
from care.models import EducationGiven, EducationTopic, InterventionSession, Medication, MedicationReport, Referral
from care.services import ensure_starter_library
from carereg.lib.bulk import bulk_create_with_history
from patients.models import Episode

MEDICATIONS = [
    ("sertraline", "50 mg", "once daily"),
    ("escitalopram", "10 mg", "once daily"),
    ("fluoxetine", "20 mg", "every morning"),
    ("bupropion XL", "150 mg", "every morning"),
    ("mirtazapine", "15 mg", "at bedtime"),
    ("citalopram", "20 mg", "once daily"),
]
SIDE_EFFECTS = ["nausea", "headache", "trouble sleeping", "feeling jittery", "drowsiness", "dry mouth"]
# Sessions planned for the structured interventions; the others are not counted against a plan.
PLANNED = {"problem_solving": 6, "behavioral_activation": 8, "motivational_interviewing": 4}
REFERRAL_TARGETS = {
    "psychotherapy": "Clinic behavioral health (CBT)",
    "pst_group": "Tuesday PST group",
    "housing": "County housing authority",
    "vocational": "State vocational rehabilitation office",
    "specialty_mh": "Riverside Community Mental Health",
    "substance_use": "New Path recovery program",
    "social_services": "Department of social services",
}
REFERRAL_REASONS = {
    "psychotherapy": "Prefers weekly therapy in addition to care management.",
    "pst_group": "Would like to practise problem solving with others.",
    "housing": "Facing eviction; housing worries drive symptoms.",
    "vocational": "Lost job; wants help returning to work.",
    "specialty_mh": "Not improving after two medication trials.",
    "substance_use": "Drinking more since symptoms began; open to help.",
    "social_services": "Needs help applying for food and utility assistance.",
}


def seed_care_demo(rows, *, clinics: dict, seed: int, today: datetime.date) -> dict[str, int]:
    """Add care rows to a share of the demo's episodes; returns how many of each were made."""
    rng = random.Random(f"care-{seed}")
    by = User.objects.filter(username="admin").first()
    topics = {}
    for clinic in clinics.values():
        ensure_starter_library(clinic, by=by)
        topics[clinic.pk] = list(EducationTopic.objects.filter(clinic=clinic, active=True).order_by("pk"))
    reached = defaultdict(list)
    for contact in rows.contacts:
        if contact.reached:
            reached[contact._episode_index].append(contact)
    medications, reports, sessions, referrals, education = [], [], [], [], []
    for index, episode in enumerate(rows.episodes):
        contacts = sorted(reached.get(index, []), key=lambda c: (c.contact_date, c.pk))
        if not contacts:
            continue
        patient = rows.patients[episode._patient_index]
        if len(contacts) >= 2 and rng.random() < 0.5:
            _medications(rng, episode, patient, contacts, today, medications, reports)
        if rng.random() < 0.6:
            _sessions(episode, contacts, sessions)
        if rng.random() < 0.25:
            _referral(rng, episode, contacts, today, referrals)
        if rng.random() < 0.4 and topics[patient.clinic_id]:
            first = contacts[0]
            for topic in rng.sample(topics[patient.clinic_id], k=rng.randrange(1, 3)):
                education.append(
                    EducationGiven(
                        episode=episode,
                        contact=first,
                        topic=topic,
                        given_on=first.contact_date,
                        how=rng.choice(["in_person", "in_person", "mailed", "portal"]),
                        given_by=first.recorded_by,
                    )
                )
    bulk_create_with_history(medications, by=by)
    for report in reports:
        report.medication = report.medication  # the medication's id, now that it has one
    bulk_create_with_history(reports, by=by)
    bulk_create_with_history(sessions, by=by)
    bulk_create_with_history(referrals, by=by)
    bulk_create_with_history(education, by=by)
    return {
        "medications": len(medications),
        "medication_reports": len(reports),
        "intervention_sessions": len(sessions),
        "referrals": len(referrals),
        "education_given": len(education),
    }


def _medications(rng, episode, patient, contacts, today, medications, reports) -> None:
    name, dose, instructions = rng.choice(MEDICATIONS)
    started = contacts[0].contact_date - datetime.timedelta(days=rng.randrange(0, 45))
    first = Medication(
        episode=episode,
        name=name,
        dose=dose,
        instructions=instructions,
        started_on=started,
        prescriber=patient.pcp,
        recorded_by=contacts[0].recorded_by,
    )
    medications.append(first)
    current, switch_at = first, None
    if len(contacts) >= 4 and rng.random() < 0.2:  # side effects: switched at a later contact
        switch_at = rng.randrange(2, len(contacts))
    for number, contact in enumerate(contacts[1:6], start=1):
        if number == switch_at:
            current.stopped_on = contact.contact_date
            current.stop_reason = f"Side effects ({rng.choice(SIDE_EFFECTS)}); switched."
            name, dose, instructions = rng.choice([m for m in MEDICATIONS if m[0] != current.name])
            current = Medication(
                episode=episode,
                name=name,
                dose=dose,
                instructions=instructions,
                started_on=contact.contact_date,
                prescriber=patient.pcp,
                recorded_by=contact.recorded_by,
            )
            medications.append(current)
            continue
        severity = rng.choice(["none", "none", "none", "mild", "mild", "moderate"])
        reports.append(
            MedicationReport(
                contact=contact,
                medication=current,
                adherence=rng.choice(["as_prescribed"] * 4 + ["missed_some"]),
                side_effect_severity=severity,
                side_effects="" if severity == "none" else rng.choice(SIDE_EFFECTS),
                effectiveness=rng.choice(["much_better", "somewhat_better", "somewhat_better", "no_change"]),
                recorded_by=contact.recorded_by,
            )
        )
    if episode.status == Episode.Status.DISCHARGED and current.stopped_on is None and rng.random() < 0.5:
        current.stopped_on = min(today, max(episode.discharged_on, current.started_on))
        current.stop_reason = "Course completed with the PCP."
    # The plans written next (consults.demo_plans) describe the medication the patient really takes.
    episode._medication = current


def _sessions(episode, contacts, sessions) -> None:
    """A session for each structured intervention the demo's contacts already list, numbered in order."""
    numbers = defaultdict(int)
    for contact in contacts:
        for code in contact.interventions:
            numbers[code] += 1
            planned = PLANNED.get(code)
            sessions.append(
                InterventionSession(
                    episode=episode,
                    contact=contact,
                    intervention=code,
                    session_number=numbers[code],
                    planned_sessions=max(planned, numbers[code]) if planned else None,
                    recorded_by=contact.recorded_by,
                )
            )


def _referral(rng, episode, contacts, today, referrals) -> None:
    kind = rng.choice(list(REFERRAL_TARGETS))
    contact = rng.choice(contacts)
    referral = Referral(
        episode=episode,
        contact=contact,
        kind=kind,
        to_whom=REFERRAL_TARGETS[kind],
        reason=REFERRAL_REASONS[kind],
        sent_on=contact.contact_date,
        recorded_by=contact.recorded_by,
    )
    age = (today - referral.sent_on).days
    # Older referrals have mostly moved on; a few still wait: the follow-up list's work.
    if age > 10 and rng.random() < 0.8:
        referral.status = "scheduled"
        referral.scheduled_for = referral.sent_on + datetime.timedelta(days=rng.randrange(7, 22))
        if referral.scheduled_for < today and rng.random() < 0.85:
            referral.status = rng.choice(["completed", "completed", "completed", "no_show", "declined"])
            referral.closed_on = referral.scheduled_for
    referrals.append(referral)
