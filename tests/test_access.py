"""Everyone sees only the patients of their own clinic(s) (docs/admin-guide.md#roles).

Another clinic's record is a 404, exactly as if it did not exist: never a 403 (which would
say it exists) and never the page. The URL lists are generated from the URLconfs and the
admin registry, so a page added later is checked without anyone remembering to.
"""

import datetime
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import URLPattern, reverse
from django.urls.converters import IntConverter
from django.utils import timezone

from accounts.models import Clinic, Role, User
from audit import urls as audit_urls
from care import services as care_services
from care import urls as care_urls
from care.models import EducationGiven, EducationTopic, InterventionSession, Medication, MedicationReport, Referral
from consults import notes
from consults import urls as consults_urls
from consults.agenda import build_agendas
from consults.models import Agenda, AgendaItem, CaseReview, Notification, Recommendation
from consults.services import record_case_review
from interchange import urls as interchange_urls
from interchange.models import ImportJob
from patients import plans
from patients import services as patient_services
from patients import urls as patient_urls
from patients.models import Episode, InitialAssessment, Patient, PlanChange, RelapsePreventionPlan, TreatmentPlan
from registry import services
from registry import urls as registry_urls
from registry.models import Contact, Flag, FlagDigest, Measurement, RegistrySettings, SafetyAssessment
from selfreport import consent as self_report_consent
from selfreport import services as self_report_services
from selfreport import urls as selfreport_urls
from selfreport.models import Delivery, Invitation, Schedule, TextConsent
from tests.factories import ClinicFactory, UserFactory, record_contact, record_score

pytestmark = pytest.mark.django_db


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


@dataclass
class ClinicRecords:
    clinic: Clinic
    care_manager: User
    patient: Patient
    episode: Episode
    contact: Contact
    measurement: Measurement
    resolved_flag: Flag
    assessment: SafetyAssessment
    open_flag: Flag
    agenda: Agenda
    agenda_item: AgendaItem
    case_review: CaseReview
    recommendation: Recommendation
    plan_change: PlanChange

    def care_object(self, model):
        """The one row of a care model that care_records() made for this clinic's episode."""
        return model.objects.get(**{CARE_EPISODE_PATHS[model]: self.episode})

    def object_of(self, model):
        if model in CARE_EPISODE_PATHS:
            return self.care_object(model)
        return {
            Patient: self.patient,
            Episode: self.episode,
            Contact: self.contact,
            Measurement: self.measurement,
            Flag: self.open_flag,
            SafetyAssessment: self.assessment,
            CaseReview: self.case_review,
            Agenda: self.agenda,
            InitialAssessment: self.episode.assessment,
            TreatmentPlan: self.episode.treatment_plan,
            PlanChange: self.plan_change,
            RelapsePreventionPlan: self.episode.relapse_plan,
        }[model]


def clinic_with_records(code: str, mrn: str, first_name: str, last_name: str) -> ClinicRecords:
    """A clinic with one patient who has every kind of clinical row, made as the app makes them."""
    clinic = ClinicFactory(code=code, name=f"{code.title()} Clinic")
    cm = UserFactory(username=f"{code}-cm", first_name="Casey", last_name=f"{code.title()}manager", clinics=[clinic])
    patient = patient_services.enroll_patient(
        clinic=clinic,
        enrolled_on=days_ago(60),
        by=cm,
        mrn=mrn,
        first_name=first_name,
        last_name=last_name,
        birth_date=datetime.date(1970, 1, 1),
        sex="male",
        care_manager=cm,
    )
    episode = patient.episodes.get()
    contact = record_contact(episode, days_ago(50), cm, kind="initial_assessment", minutes=40)
    record_score(episode, "PHQ9", 18, days_ago(50), cm, item9=1)
    resolved = Flag.objects.get(episode=episode, kind=Flag.Kind.SAFETY)
    assessment = services.resolve_safety_flag(
        flag=resolved, by=cm, risk_level="low", actions=["safety_plan"], note="No plan.", assessed_at=timezone.now()
    )
    measurement = record_score(episode, "PHQ9", 15, days_ago(10), cm, item9=2)
    open_flag = Flag.objects.get(episode=episode, kind=Flag.Kind.SAFETY, resolved_at__isnull=True)
    (agenda,) = build_agendas(clinic, days_ago(0))
    consultant = UserFactory(username=f"{code}-psych", role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[clinic])
    review = record_case_review(
        episode=episode, reviewed_on=days_ago(5), consultant=consultant, summary="Discussed.", by=cm
    )
    note = notes.start_note(episode=episode, consultant=consultant, by=consultant)
    notes.save_draft(review=note, by=consultant, reviewed_on=days_ago(1), assessment="MDD.", diagnoses=[], summary="")
    recommendation = notes.add_recommendation(review=note, by=consultant, kind="continue")
    notes.sign(review=note, by=consultant)
    plan_change = _plans_of(episode, cm)
    care_records(episode, cm, contact)
    self_report_records(episode, cm)
    return ClinicRecords(
        clinic,
        cm,
        patient,
        episode,
        contact,
        measurement,
        resolved,
        assessment,
        open_flag,
        agenda,
        agenda.items.get(),
        review,
        recommendation,
        plan_change,
    )


def _plans_of(episode: Episode, cm: User) -> PlanChange:
    """The care manager's plans for the episode, one of each kind."""
    plans.save_initial_assessment(episode=episode, by=cm, presenting_problems="Low mood.", diagnoses=[])
    plans.save_treatment_plan(episode=episode, by=cm, goals="Sleep better.", current_treatments="BA.")
    plans.save_relapse_plan(episode=episode, by=cm, warning_signs="Poor sleep.")
    return plans.record_plan_change(
        episode=episode, by=cm, changed_on=days_ago(2), reason="Not improving.", what_changed="Weekly calls."
    )


@pytest.fixture
def north():
    return clinic_with_records("north", "NORTH-0001", "Aurelio", "Zanetti")


@pytest.fixture
def south():
    return clinic_with_records("south", "SOUTH-0001", "Bertha", "Quimby")


CARE_EPISODE_PATHS = {
    Medication: "episode",
    MedicationReport: "contact__episode",
    InterventionSession: "episode",
    Referral: "episode",
    EducationGiven: "episode",
    Invitation: "episode",
    Schedule: "episode",
    Delivery: "invitation__episode",
    TextConsent: "patient__episodes",
}


def care_records(episode: Episode, cm: User, contact: Contact) -> None:
    """A medication with a report, a session, a referral and education, recorded at the contact."""
    care_services.ensure_starter_library(episode.patient.clinic)
    medication = care_services.add_medication(
        episode=episode, by=cm, name="sertraline", dose="50 mg", started_on=days_ago(55)
    )
    care_services.record_treatment_details(
        contact=contact,
        by=cm,
        medication_reports=[care_services.ReportInput(medication, adherence="as_prescribed")],
        sessions=[care_services.SessionInput("problem_solving", planned_sessions=6)],
        referral=care_services.ReferralInput(kind="housing", to_whom="Housing office", reason="Eviction"),
        education=care_services.EducationInput(topics=[episode.patient.clinic.education_topics.first()], how="mailed"),
    )


def self_report_records(episode: Episode, cm: User) -> None:
    """A questionnaire link e-mailed to the patient (its message), a schedule for the next
    ones, and the patient's consent to texts."""
    self_report_services.send_invitation(
        episode=episode, instruments=["PHQ9"], language="en", email="patient@example.org", by=cm
    )
    self_report_services.set_schedule(episode=episode, every_days=14, instruments=["PHQ9"], language="en", by=cm)
    self_report_consent.record_text_consent(patient=episode.patient, phone_number="(206) 555-0123", by=cm)


def secrets_of(records: ClinicRecords) -> list[str]:
    return [records.patient.mrn, records.patient.last_name, records.patient.first_name]


# --- The app's pages ---------------------------------------------------------------------


def _patterns() -> dict[str, URLPattern]:
    # fhirapi's URLs are left out on purpose: they take an API token, not a session, so the
    # logged-in outsider below does not apply. fhirapi/tests/test_read.py proves each of them a
    # 404 for another clinic's token, with its own check that it covers every one.
    modules = (patient_urls, registry_urls, consults_urls, care_urls, selfreport_urls, audit_urls, interchange_urls)
    return {f"{module.app_name}:{p.name}": p for module in modules for p in module.urlpatterns}


def _takes_an_id(pattern: URLPattern) -> bool:
    return any(isinstance(c, IntConverter) for c in pattern.pattern.converters.values())


URLS_WITH_IDS = [name for name, pattern in _patterns().items() if _takes_an_id(pattern)]


def notice_for(user: User, clinic: Clinic) -> Notification:
    return Notification.objects.create(recipient=user, clinic=clinic, text="A notice.", created_at=timezone.now())


def kwargs_for(name: str, records: ClinicRecords) -> dict:
    """Every URL that takes an id, given one of a real object."""
    patient, episode = records.patient.pk, records.episode.pk
    known = {
        "patients:detail": {"pk": patient},
        "patients:episode": {"pk": patient, "episode_pk": episode},
        "patients:edit": {"pk": patient},
        "patients:change_status": {"pk": patient},
        "patients:reenroll": {"pk": patient},
        "registry:record_contact": {"patient_pk": patient},
        "registry:record_measurement": {"patient_pk": patient, "instrument": "PHQ9"},
        "registry:resolve_flag": {"pk": records.open_flag.pk},
        "registry:contact_entered_in_error": {"pk": records.contact.pk},
        "registry:measurement_entered_in_error": {"pk": records.measurement.pk},
        "registry:request_review": {"patient_pk": patient},
        "registry:mark_flags_seen": {"patient_pk": patient},
        "consults:agenda": {"pk": records.agenda.pk},
        "consults:add_item": {"pk": records.agenda.pk},
        "consults:remove_item": {"pk": records.agenda.pk, "item_pk": records.agenda_item.pk},
        "consults:restore_item": {"pk": records.agenda.pk, "item_pk": records.agenda_item.pk},
        "consults:move_item": {"pk": records.agenda.pk, "item_pk": records.agenda_item.pk, "direction": "down"},
        "consults:set_question": {"pk": records.agenda.pk, "item_pk": records.agenda_item.pk},
        "consults:record_review": {"patient_pk": patient},
        "consults:update_session": {"pk": records.agenda.pk},
        "consults:save_questions": {"pk": records.agenda.pk},
        "consults:reorder": {"pk": records.agenda.pk},
        "consults:hold_meeting": {"pk": records.agenda.pk},
        "consults:notification_read": {"pk": notice_for(records.care_manager, records.patient.clinic).pk},
        "consults:workspace": {"pk": records.agenda.pk, "item_pk": records.agenda_item.pk},
        "consults:note": {"pk": records.case_review.pk},
        "consults:save_note": {"pk": records.case_review.pk},
        "consults:amend_note": {"pk": records.case_review.pk},
        "consults:print_note": {"pk": records.case_review.pk},
        "consults:start_note": {"patient_pk": patient},
        "consults:communicate": {"pk": records.recommendation.pk},
        "consults:respond": {"pk": records.recommendation.pk},
        "consults:implemented": {"pk": records.recommendation.pk},
        "care:add_medication": {"patient_pk": patient},
        "care:edit_medication": {"pk": records.care_object(Medication).pk},
        "care:stop_medication": {"pk": records.care_object(Medication).pk},
        "care:medication_entered_in_error": {"pk": records.care_object(Medication).pk},
        "care:add_referral": {"patient_pk": patient},
        "care:referral_status": {"pk": records.care_object(Referral).pk},
        "care:referral_entered_in_error": {"pk": records.care_object(Referral).pk},
        "care:give_education": {"patient_pk": patient},
        "care:education_given_entered_in_error": {"pk": records.care_object(EducationGiven).pk},
        "care:edit_topic": {"pk": records.care_object(EducationGiven).topic_id},
        "care:print_topic": {"pk": records.care_object(EducationGiven).topic_id},
        "patients:initial_assessment": {"pk": patient},
        "patients:treatment_plan": {"pk": patient},
        "patients:plan_change": {"pk": patient},
        "patients:plan_change_entered_in_error": {"pk": records.plan_change.pk},
        "patients:plan_change_from_recommendation": {"pk": records.recommendation.pk},
        "patients:relapse_plan": {"pk": patient},
        "patients:relapse_plan_print": {"pk": episode},
        "patients:discharge_for_no_contact": {"pk": patient},
        "selfreport:send": {"patient_pk": patient},
        "selfreport:cancel": {"pk": Invitation.objects.get(episode=records.episode).pk},
        "selfreport:stop": {"pk": Schedule.objects.get(episode=records.episode).pk},
        "selfreport:text_consent": {"patient_pk": patient},
        "selfreport:text_withdraw": {"patient_pk": patient},
        "audit:patient_history": {"pk": patient},
        # a background import is its uploader's (here North's care manager, to be let in first)
        "interchange:import_job": {"pk": ImportJob.objects.create(by=records.care_manager, rows_total=1).pk},
    }
    if name not in known:
        pytest.fail(f"{name} takes an id: say in tests/test_access.py which object it belongs to.")
    assert set(known[name]) == set(_patterns()[name].pattern.converters), f"{name}: kwargs changed"
    return known[name]


def test_the_url_list_is_generated_and_covers_every_page_with_an_id():
    assert len(URLS_WITH_IDS) >= 10
    assert {"patients:detail", "registry:resolve_flag", "registry:measurement_entered_in_error"} <= set(URLS_WITH_IDS)


OUTSIDER_ROLES = [Role.CARE_MANAGER, Role.CLINIC_ADMIN, Role.PSYCHIATRIC_CONSULTANT, Role.MEDICAL_PROVIDER]


@pytest.mark.parametrize("role", OUTSIDER_ROLES)
@pytest.mark.parametrize("name", URLS_WITH_IDS)
def test_another_clinics_record_is_not_found(client, north, south, name, role):
    url = reverse(name, kwargs=kwargs_for(name, north))
    client.force_login(north.care_manager)
    methods = [m for m in ("get", "post") if getattr(client, m)(url).status_code != 405]
    assert methods, f"{name} answers no method for its own clinic"
    for method in methods:
        assert getattr(client, method)(url).status_code != 404, f"{name} is not found even in its own clinic"
    outsider = UserFactory(username=f"south-{role}", role=role, fte=None, clinics=[south.clinic])
    client.force_login(outsider)

    responses = {method: getattr(client, method)(url, {"reason": "x", "note": "x"}) for method in methods}

    for method, response in responses.items():
        assert response.status_code == 404, f"{method.upper()} {name} as a South {role}"
        assert all(secret not in response.content.decode() for secret in secrets_of(north))
    assert not Contact.objects.filter(episode=north.episode).exclude(pk=north.contact.pk).exists()
    north.contact.refresh_from_db()
    north.open_flag.refresh_from_db()
    assert not north.contact.is_entered_in_error
    assert north.open_flag.is_open
    assert not any(north.care_object(model).is_entered_in_error for model in (Medication, Referral, EducationGiven))


def test_another_clinics_episode_under_ones_own_patient_is_not_found(client, north, south):
    client.force_login(south.care_manager)

    response = client.get(reverse("patients:episode", args=[south.patient.pk, north.episode.pk]))

    assert response.status_code == 404


def test_a_user_of_both_clinics_sees_both(client, north, south):
    both = UserFactory(username="both", role=Role.CLINIC_ADMIN, fte=None, clinics=[north.clinic, south.clinic])
    client.force_login(both)

    assert client.get(reverse("patients:detail", args=[north.patient.pk])).status_code == 200
    assert client.get(reverse("patients:detail", args=[south.patient.pk])).status_code == 200


@pytest.mark.parametrize("role", [Role.CARE_MANAGER, Role.CLINIC_ADMIN])
def test_dashboard_never_lists_another_clinics_patients(client, north, south, role):
    user = UserFactory(username=f"south-{role}", role=role, fte=None, clinics=[south.clinic])
    south.patient.care_manager = user if role == Role.CARE_MANAGER else south.care_manager
    south.patient.save()
    client.force_login(user)
    dashboard = reverse("registry:dashboard")

    pages = [
        client.get(dashboard),
        client.get(dashboard, {"team": "all"}),
        client.get(dashboard, {"team": str(north.care_manager.pk)}),
        client.get(dashboard, {"team": "all", "flag": "safety"}),
    ]
    client.post(dashboard, {"q": north.patient.mrn})
    searched = client.get(dashboard, {"team": "all"})

    for page in pages:
        assert north.episode.pk not in [row.pk for row in page.context["page"].object_list]
        assert all(secret not in page.content.decode() for secret in secrets_of(north))
        assert north.care_manager.last_name not in page.content.decode()
    assert list(searched.context["page"].object_list) == []
    assert north.patient.last_name not in searched.content.decode()  # the MRN is there: the user typed it
    assert [row.pk for row in pages[1].context["page"].object_list] == [south.episode.pk]
    assert pages[1].context["stats"]["active"] == 1


# --- Django admin ------------------------------------------------------------------------

CLINICAL_APPS = {"patients", "registry", "consults", "care", "selfreport"}
# Registered models of those apps that hold no patient's record (checked on their own below).
NOT_PATIENT_RECORDS = {RegistrySettings, FlagDigest, EducationTopic}
CLINICAL_MODELS = [
    model
    for model in admin.site._registry
    if model._meta.app_label in CLINICAL_APPS and model not in NOT_PATIENT_RECORDS
]


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_clinical_model_in_the_admin_is_checked(north):
    assert set(CLINICAL_MODELS) == {
        Patient,
        Episode,
        Contact,
        Measurement,
        Flag,
        SafetyAssessment,
        CaseReview,
        Agenda,
        InitialAssessment,
        TreatmentPlan,
        PlanChange,
        RelapsePreventionPlan,
    } | set(CARE_EPISODE_PATHS)
    for model in CLINICAL_MODELS:
        assert isinstance(north.object_of(model), model)


@pytest.fixture
def south_admin(south):
    """A clinic admin of South with every admin permission on clinical models: only clinics limit them."""
    user = UserFactory(username="south-admin", role=Role.CLINIC_ADMIN, fte=None, is_staff=True, clinics=[south.clinic])
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=CLINICAL_APPS))
    return user


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", role="", fte=None, is_staff=True, is_superuser=True)


@pytest.mark.parametrize("model", CLINICAL_MODELS, ids=lambda m: m.__name__)
def test_admin_lists_show_a_clinic_admin_only_their_clinics_rows(client, north, south, south_admin, model):
    client.force_login(south_admin)

    response = client.get(admin_url(model, "changelist"))
    client.post(admin_url(model, "changelist"), {"q": north.patient.mrn, "_search": "Search"})
    searched = client.get(admin_url(model, "changelist"))

    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert shown
    assert north.object_of(model).pk not in {row.pk for row in shown}
    assert south.object_of(model).pk in {row.pk for row in shown}
    assert all(secret not in response.content.decode() for secret in secrets_of(north))
    assert searched.context["cl"].result_count == 0


@pytest.mark.parametrize("model", CLINICAL_MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("view", ["change", "history", "simple_history", "delete"])
def test_admin_object_pages_of_another_clinic_are_not_shown(client, north, south_admin, model, view):
    target = north.object_of(model)
    args = [target.pk]
    if view == "simple_history":
        args.append(target.history.earliest("history_date").history_id)
    client.force_login(south_admin)

    response = client.get(admin_url(model, view, *args))

    assert response.status_code in (302, 403, 404), f"{view} of a North {model.__name__}"
    if response.status_code == 302:
        assert response["Location"] == reverse("admin:index")
    assert all(secret not in response.content.decode() for secret in secrets_of(north))


def test_admin_cannot_change_another_clinics_patient_through_any_form(client, north, south_admin):
    patient = north.patient
    data = {"mrn": "HACKED", "first_name": "X", "last_name": "Y", "birth_date": "1970-01-01", "sex": "male"}
    data["preferred_language"] = "English"
    version = patient.history.earliest("history_date").history_id
    client.force_login(south_admin)

    client.post(admin_url(Patient, "change", patient.pk), data)
    client.post(admin_url(Patient, "simple_history", patient.pk, version), data)

    patient.refresh_from_db()
    assert patient.mrn == "NORTH-0001"
    assert patient.history.count() == 1


@pytest.mark.parametrize("model", [m for m in CLINICAL_MODELS if m is not Patient], ids=lambda m: m.__name__)
def test_read_only_clinical_rows_cannot_be_reverted_through_their_admin_history(client, south, south_admin, model):
    target = south.object_of(model)
    target.refresh_from_db()
    version = target.history.earliest("history_date").history_id
    url = admin_url(model, "simple_history", target.pk, version)
    client.force_login(south_admin)
    form = client.get(url).context["adminform"].form
    data = {name: "" if form[name].value() is None else form[name].value() for name in form.fields}
    before = {f.attname: getattr(target, f.attname) for f in model._meta.concrete_fields}
    versions = target.history.count()

    response = client.post(url, data)

    assert response.status_code == 403
    target.refresh_from_db()
    assert {f.attname: getattr(target, f.attname) for f in model._meta.concrete_fields} == before
    assert target.history.count() == versions


def test_admin_shows_a_clinic_admin_their_own_clinics_records(client, south, south_admin):
    client.force_login(south_admin)

    for model in CLINICAL_MODELS:
        response = client.get(admin_url(model, "change", south.object_of(model).pk))

        assert response.status_code == 200, model.__name__
    assert client.get(admin_url(Patient, "history", south.patient.pk)).status_code == 200


@pytest.mark.parametrize("model", CLINICAL_MODELS, ids=lambda m: m.__name__)
def test_clinical_rows_cannot_be_added_or_deleted_in_the_admin(client, north, superuser, model):
    target = north.object_of(model)
    client.force_login(superuser)

    add = client.get(admin_url(model, "add"))
    delete = client.post(admin_url(model, "delete", target.pk), {"post": "yes"})
    changelist = client.get(admin_url(model, "changelist"))

    assert add.status_code == 403
    assert delete.status_code == 403
    assert model.objects.filter(pk=target.pk).exists()
    assert "delete_selected" not in changelist.context["cl"].model_admin.get_actions(changelist.wsgi_request)
    bulk = client.post(
        admin_url(model, "changelist"), {"action": "delete_selected", "_selected_action": [target.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    assert model.objects.filter(pk=target.pk).exists()


@pytest.mark.parametrize("model", CLINICAL_MODELS, ids=lambda m: m.__name__)
def test_superuser_sees_both_clinics_in_the_admin(client, north, south, superuser, model):
    client.force_login(superuser)

    response = client.get(admin_url(model, "changelist"))

    shown = {row.pk for row in response.context["cl"].result_list}
    assert {north.object_of(model).pk, south.object_of(model).pk} <= shown
    assert client.get(admin_url(model, "change", north.object_of(model).pk)).status_code == 200


@pytest.fixture
def south_user_admin(south):
    """A South clinic admin allowed to manage staff accounts in the Django admin."""
    user = UserFactory(username="south-users", role=Role.CLINIC_ADMIN, fte=None, is_staff=True, clinics=[south.clinic])
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="accounts"))
    return user


def test_clinic_admin_cannot_grant_superuser_or_move_staff_into_another_clinic(client, north, south, south_user_admin):
    client.force_login(south_user_admin)
    url = reverse("admin:accounts_user_change", args=[south.care_manager.pk])
    own_url = reverse("admin:accounts_user_change", args=[south_user_admin.pk])
    data = {
        "role": Role.CLINIC_ADMIN,
        "clinics": [south.clinic.pk, north.clinic.pk],
        "is_superuser": "on",
        "is_staff": "on",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }

    form = client.get(url).context["adminform"].form
    client.post(url, {**data, "username": south.care_manager.username})
    own = client.post(own_url, {**data, "username": south_user_admin.username})

    for account in (south.care_manager, south_user_admin):
        account.refresh_from_db()
        assert not account.is_superuser
        assert north.clinic not in account.clinics.all()
    assert not south.care_manager.is_staff
    assert own.status_code == 403  # a staff account, her own included, is a superuser's to change
    assert list(form.fields["clinics"].queryset) == [south.clinic]
    assert "is_superuser" not in form.fields


def test_admin_list_filters_name_only_the_users_own_clinics_and_staff(client, north, south, south_admin):
    client.force_login(south_admin)

    response = client.get(admin_url(Patient, "changelist"))

    page = response.content.decode()
    assert south.clinic.name in page
    assert north.clinic.name not in page
    assert north.care_manager.last_name not in page


def test_clinic_admin_sees_and_changes_only_their_clinics_registry_settings(client, north, south, south_admin):
    north_settings = RegistrySettings.objects.create(clinic=north.clinic, not_improving_after_days=56)
    south_settings = RegistrySettings.objects.create(clinic=south.clinic)
    south_admin.user_permissions.add(*Permission.objects.filter(content_type__model="registrysettings"))
    client.force_login(south_admin)

    listed = client.get(admin_url(RegistrySettings, "changelist"))
    north_page = client.get(admin_url(RegistrySettings, "change", north_settings.pk))
    south_page = client.get(admin_url(RegistrySettings, "change", south_settings.pk))

    assert [row.pk for row in listed.context["cl"].result_list] == [south_settings.pk]
    assert north_page.status_code in (302, 404)
    assert south_page.status_code == 200
    assert list(south_page.context["adminform"].form.fields["clinic"].queryset) == [south.clinic]
