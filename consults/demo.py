"""The demo's case reviews and recommendations (registry/demo.py builds the rest; consults
registers these steps, consults/contributions.py)."""

import datetime

from django.utils import timezone

from carereg.dates import clinic_today
from carereg.lib.bulk import bulk_create_with_history
from consults.agenda import build_agendas
from consults.models import CaseReview, Recommendation
from registry.demo import NEW_FOR

DEMO_RECOMMENDATIONS = [
    ("start_medication", "sertraline", "50 mg daily"),
    ("adjust_dose", "sertraline", "100 mg daily"),
    ("adjust_dose", "escitalopram", "20 mg daily"),
    ("change_medication", "bupropion XL", "150 mg daily"),
    ("behavioral_change", "", ""),
    ("continue", "", ""),
    ("referral", "", ""),
]


def build_case_reviews(
    builder, episode_index: int, *, code: str, assessed: datetime.date, end: datetime.date, improved: bool
) -> None:
    """Patients are discussed with the consultant within their first weeks; some who are not
    improving were discussed again lately. Only a recent patient (or a discharged one) may
    never have been discussed: an open episode months in is never still "new"."""
    rng = builder.rng
    first = assessed + datetime.timedelta(days=rng.randrange(7, 29))
    open_long = builder.rows.episodes[episode_index].discharged_on is None and assessed <= builder.today - NEW_FOR
    if open_long:
        first = min(first, max(end, assessed))
    elif first > end or rng.random() < 0.12:
        return
    consultant = builder.rows.patients[builder.rows.episodes[episode_index]._patient_index].psychiatric_consultant
    days = [first]
    if not improved and rng.random() < 0.5:
        days.append(max(first, end - datetime.timedelta(days=rng.randrange(0, 40))))
    for day in days:
        review = CaseReview(
            reviewed_on=day,
            consultant=consultant,
            assessment="Synthetic demo review: symptoms and treatment response discussed with the care manager.",
            diagnoses=[rng.choice(["F32.1", "F33.1", "F33.0", "F41.1", "F32.A"])],
            summary="Synthetic demo reasoning.",
            signed_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(13))),
            recorded_by=consultant,
        )
        # The demo's unsaved rows carry their parent's index in Rows until they are saved
        # (registry/demo.py), an attribute the model does not declare.
        review._episode_index = episode_index  # type: ignore[attr-defined]
        builder.rows.reviews.append(review)
        if rng.random() < 0.6:
            _recommendation(builder, len(builder.rows.reviews) - 1, day, improved)


def _recommendation(builder, review_index: int, day: datetime.date, improved: bool) -> None:
    """What the consultant advised, and how far it has got: older ones are closed."""
    rng = builder.rng
    review = builder.rows.reviews[review_index]
    patient = builder.rows.patients[builder.rows.episodes[review._episode_index]._patient_index]
    kind, drug, dose = rng.choice(DEMO_RECOMMENDATIONS)
    recommendation = Recommendation(kind=kind, drug=drug, dose=dose, recommended_on=day)
    age = (builder.today - day).days
    noon = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
    if age > 3:
        recommendation.status = Recommendation.Status.COMMUNICATED
        recommendation.communicated_at = noon + datetime.timedelta(days=1)
        recommendation.communicated_how = rng.choice(["ehr_message", "phone", "in_person"])
        recommendation.communicated_by = patient.care_manager
    if age > 10 or (age > 5 and rng.random() < 0.5):
        declined = rng.random() < 0.15
        recommendation.status = Recommendation.Status.DECLINED if declined else Recommendation.Status.ACCEPTED
        recommendation.responded_at = noon + datetime.timedelta(days=3)
        recommendation.response_note = "Patient prefers to wait." if declined else ""
        recommendation.responded_by = patient.pcp
        if not declined and (age > 21 or rng.random() < 0.3):
            recommendation.status = Recommendation.Status.IMPLEMENTED
            recommendation.implemented_on = min(builder.today, day + datetime.timedelta(days=rng.randrange(5, 15)))
            recommendation.implemented_by = patient.care_manager
    recommendation._review_index = review_index  # type: ignore[attr-defined]  # as review._episode_index above
    builder.rows.recommendations.append(recommendation)


def save_case_reviews(rows, *, by, **_) -> None:
    for review in rows.reviews:
        review.episode = rows.episodes[review._episode_index]
    bulk_create_with_history(rows.reviews, by=by)
    for recommendation in rows.recommendations:
        recommendation.review = rows.reviews[recommendation._review_index]
        recommendation.episode = recommendation.review.episode
    bulk_create_with_history(rows.recommendations, by=by)


def build_this_weeks_agendas(clinics: dict) -> None:
    for clinic in clinics.values():  # this week's caseload review agendas, ready to open
        build_agendas(clinic, clinic_today(clinic))
