"""One factory per model. Clinical rows that carry rules (contacts, scores, flags) are made
through the services, as the app makes them, so summaries and flags are real."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Clinic, Role, User
from patients.models import Episode, Patient
from registry import services
from registry.scoring import INSTRUMENTS

PASSWORD = "correct-horse-battery-staple"


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"clinic{n}")
    name = factory.LazyAttribute(lambda o: f"{o.code.title()} Clinic")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.CARE_MANAGER
    fte = factory.LazyAttribute(lambda o: Decimal("1.00") if o.role == Role.CARE_MANAGER else None)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def clinics(self, create, extracted, **kwargs):
        if create and extracted:
            self.clinics.add(*extracted)
        if create:
            self.save()


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    mrn = factory.Sequence(lambda n: f"MRN{n:06d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    birth_date = datetime.date(1980, 5, 17)
    sex = "female"


class EpisodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Episode

    patient = factory.SubFactory(PatientFactory)
    enrolled_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=120))
    status = Episode.Status.ENROLLED
    status_changed_on = factory.LazyAttribute(lambda o: o.enrolled_on)


def answers_totalling(instrument_code: str, total: int, item9: int = 0) -> list[int]:
    """Item answers of 0-3 that sum to total, with PHQ-9 item 9 as given."""
    instrument = INSTRUMENTS[instrument_code]
    answers = [0] * instrument.item_count
    if instrument_code == "PHQ9":
        answers[8] = item9
    remaining = total - sum(answers)
    for i in range(instrument.item_count):
        if instrument_code == "PHQ9" and i == 8:
            continue
        step = min(3, remaining)
        answers[i] += step
        remaining -= step
    assert remaining == 0, f"cannot make {total} with item 9 = {item9}"
    return answers


def record_score(episode, instrument_code: str, total: int, on: datetime.date, by, item9: int = 0):
    answers = services.Answers(instrument_code, answers_totalling(instrument_code, total, item9))
    return services.record_measurement(episode=episode, answers=answers, taken_on=on, by=by)


def record_contact(episode, on: datetime.date, by, **fields):
    fields.setdefault("kind", "follow_up")
    fields.setdefault("mode", "phone")
    return services.record_contact(episode=episode, contact_date=on, by=by, **fields)
