"""Where each role starts, the program overview, the Today list, the user's columns, several
flags at once, the Unassigned caseload and the search people type."""

import datetime
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from consults import notes
from consults.forms import ResponseForm
from consults.models import Recommendation
from registry import services
from registry.dashboard_forms import SEARCH_KEPT_FOR
from registry.figures_cache import figures_changed
from registry.models import CaseloadPreferences, Flag
from registry.tests.test_dashboard import CaseloadTable, add_busy_episodes, count_queries, pks_of
from tests.factories import EpisodeFactory, UserFactory, record_contact

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("registry:dashboard")


def day(offset: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=offset)


def user_of(clinic, role, username):
    return UserFactory(username=username, role=role, fte=None if role != Role.CARE_MANAGER else 1, clinics=[clinic])


# --- Each role starts where its work is ----------------------------------------------------


@pytest.mark.parametrize(
    "role, home",
    [
        (Role.CARE_MANAGER, "registry:dashboard"),
        (Role.PSYCHIATRIC_CONSULTANT, "consults:agendas"),
        (Role.MEDICAL_PROVIDER, "consults:pcp_home"),
        (Role.CLINIC_ADMIN, "registry:program"),
    ],
)
def test_each_role_starts_on_its_own_home(client, clinic, role, home):
    client.force_login(user_of(clinic, role, "someone"))

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == reverse(home)
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize(
    "role, links",
    [
        (Role.CARE_MANAGER, ["Caseload", "Today", "Enroll patient", "Caseload reviews", "Outcomes", "Recommendations"]),
        (Role.PSYCHIATRIC_CONSULTANT, ["Caseload", "My reviews", "Case review figures", "Recommendations"]),
        (Role.MEDICAL_PROVIDER, ["My recommendations", "Caseload", "Caseload reviews", "Recommendations"]),
        (Role.CLINIC_ADMIN, ["Program", "Caseload", "Today", "Enroll patient", "Caseload size", "Settings", "Import"]),
    ],
)
def test_the_navbar_still_reaches_every_page_the_role_may_see(client, clinic, role, links):
    client.force_login(user_of(clinic, role, "someone"))

    nav = client.get(DASHBOARD).content.decode().split('<main id="main"')[0]

    for text in links:
        assert f">{text}</a>" in nav, text


@pytest.fixture
def recommendations(clinic, care_manager):
    """Four signed recommendations for the PCP's patient: pending, communicated (two), answered;
    and one communicated to another PCP."""
    pcp = user_of(clinic, Role.MEDICAL_PROVIDER, "pcp")
    other_pcp = user_of(clinic, Role.MEDICAL_PROVIDER, "pcp2")
    consultant = user_of(clinic, Role.PSYCHIATRIC_CONSULTANT, "psych")
    made = {}
    for name, doctor, kinds in [
        ("his", pcp, ["start_medication", "referral", "continue", "behavioral_change"]),
        ("theirs", other_pcp, ["continue"]),
    ]:
        episode = EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, patient__pcp=doctor)
        note = notes.start_note(episode=episode, consultant=consultant, by=consultant)
        notes.save_draft(review=note, by=consultant, reviewed_on=day(-2), assessment="MDD.", diagnoses=[], summary="")
        for kind in kinds:
            made[(name, kind)] = notes.add_recommendation(review=note, by=consultant, kind=kind, drug="sertraline")
        notes.sign(review=note, by=consultant)
    for key in [("his", "referral"), ("his", "continue"), ("his", "behavioral_change"), ("theirs", "continue")]:
        notes.communicate(recommendation=made[key], by=care_manager, when=timezone.now(), how="ehr_message")
    notes.respond(recommendation=made[("his", "behavioral_change")], by=pcp, response="accepted")
    return pcp, made


def test_pcp_home_lists_what_was_communicated_to_him_and_awaits_his_answer(client, recommendations):
    pcp, made = recommendations
    client.force_login(pcp)

    response = client.get(reverse("consults:pcp_home"))

    awaiting = {r.pk for r in response.context["awaiting"]}
    assert awaiting == {made[("his", "referral")].pk, made[("his", "continue")].pk}
    assert made[("his", "start_medication")].pk not in awaiting  # not yet brought to him
    assert [r.pk for r in response.context["answered"]] == [made[("his", "behavioral_change")].pk]
    page = response.content.decode()
    assert "EHR message" in page and "ehr message" not in page
    assert " checked" not in page  # no answer is chosen for him


def test_pcp_home_is_the_pcps(client, clinic, care_manager):
    client.force_login(care_manager)

    assert client.get(reverse("consults:pcp_home")).status_code == 403


def test_the_response_form_chooses_no_answer_and_refuses_none(client, recommendations):
    pcp, made = recommendations
    recommendation = made[("his", "referral")]
    client.force_login(pcp)

    unbound = str(ResponseForm()["response"])
    client.post(reverse("consults:respond", args=[recommendation.pk]), {"response": "", "note": ""})

    assert "selected" not in unbound.replace('value="" selected', "")  # only the empty "Choose…" is shown
    assert not ResponseForm({"response": "", "note": ""}).is_valid()
    recommendation.refresh_from_db()
    assert recommendation.status == Recommendation.Status.COMMUNICATED


# --- The clinic admin's program overview -------------------------------------------------


def test_program_shows_the_figures_and_each_care_managers_caseload_and_flags(client, clinic, care_manager):
    colleague = UserFactory(username="cm2", clinics=[clinic])
    mine = EpisodeFactory.create_batch(3, patient__clinic=clinic, patient__care_manager=care_manager)
    EpisodeFactory(patient__clinic=clinic, patient__care_manager=colleague)
    EpisodeFactory.create_batch(2, patient__clinic=clinic, patient__care_manager=None)
    services.raise_flag(episode=mine[0], kind=Flag.Kind.NOT_IMPROVING)
    services.raise_flag(episode=mine[1], kind=Flag.Kind.NOT_IMPROVING)
    client.force_login(user_of(clinic, Role.CLINIC_ADMIN, "boss"))

    response = client.get(reverse("registry:program"))

    rows = {row.size.care_manager.pk: row for row in response.context["care_managers"]}
    assert rows[care_manager.pk].size.count == 3
    assert dict(rows[care_manager.pk].flags)[Flag.Kind.NOT_IMPROVING] == 2
    assert rows[colleague.pk].size.count == 1
    assert response.context["unassigned"] == 2
    assert response.context["stats"]["active"] == 6
    page = response.content.decode()
    assert f"?team={care_manager.pk}&amp;flag=not_improving" in page
    assert "?team=unassigned" in page


def test_program_is_the_clinic_admins(cm_client):
    assert cm_client.get(reverse("registry:program")).status_code == 403


def test_program_queries_do_not_grow_with_the_care_managers(client, clinic):
    admin = user_of(clinic, Role.CLINIC_ADMIN, "boss")
    client.force_login(admin)
    for n in range(2):
        add_busy_episodes(3, clinic, UserFactory(username=f"cm-a{n}", clinics=[clinic]), start=n * 3)
    client.get(reverse("registry:program"))
    few, _ = count_queries(client, reverse("registry:program"))
    for n in range(6):
        add_busy_episodes(3, clinic, UserFactory(username=f"cm-b{n}", clinics=[clinic]), start=n * 3)

    many, response = count_queries(client, reverse("registry:program"))

    assert len(response.context["care_managers"]) == 8
    assert few == many


# --- The caseload: Unassigned, several flags, the user's columns ---------------------------


def test_unassigned_caseload_lists_the_patients_without_a_care_manager(cm_client, clinic, care_manager):
    EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager)
    orphan = EpisodeFactory(patient__clinic=clinic, patient__care_manager=None)

    response = cm_client.get(DASHBOARD, {"team": "unassigned"})

    assert pks_of(response) == [orphan.pk]
    assert "Unassigned (no care manager)" in response.content.decode()


def test_several_flags_at_once_show_patients_with_any_of_them(cm_client, clinic, care_manager):
    def patient(*kinds):
        episode = EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager)
        for kind in kinds:
            services.raise_flag(episode=episode, kind=kind)
        return episode

    both = patient(Flag.Kind.NOT_IMPROVING, Flag.Kind.MEASUREMENT_OVERDUE)
    overdue = patient(Flag.Kind.MEASUREMENT_OVERDUE)
    patient(Flag.Kind.NEW_PATIENT)
    patient()

    response = cm_client.get(DASHBOARD, {"flag": ["not_improving", "measurement_overdue"]})

    assert sorted(pks_of(response)) == sorted([both.pk, overdue.pk])  # each once
    assert response.context["form"]["flag"].value() == ["not_improving", "measurement_overdue"]


def test_each_user_chooses_their_own_columns_and_density(client, clinic, care_manager):
    EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager)
    colleague = UserFactory(username="cm2", clinics=[clinic])
    client.force_login(care_manager)

    saved = client.post(
        reverse("registry:caseload_columns"),
        {"shown": ["flags", "next_due", "phq9_latest"], "compact": "on", "next": "?team=all"},
    )
    mine = client.get(DASHBOARD)
    client.force_login(colleague)
    theirs = client.get(DASHBOARD, {"team": "all"})

    assert saved["Location"] == f"{DASHBOARD}?team=all"
    assert CaseloadTable(mine.content.decode()).headers == ["Name", "Flags", "Next due", "PHQ-9 last"]
    assert 'class="caseload-scroll compact"' in mine.content.decode()
    assert len(CaseloadTable(theirs.content.decode()).headers) == 20  # everyone else keeps every column
    assert CaseloadPreferences.objects.get(user=care_manager).hidden_columns[:2] == ["mrn", "status"]


def test_an_unknown_column_is_refused_and_nothing_is_saved(cm_client):
    response = cm_client.post(reverse("registry:caseload_columns"), {"shown": ["password"]})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not CaseloadPreferences.objects.exists()


def test_dashboard_queries_stay_constant_with_preferences_saved(cm_client, clinic, care_manager):
    CaseloadPreferences.objects.create(user=care_manager, hidden_columns=["mrn"], compact=True)
    add_busy_episodes(5, clinic, care_manager)
    cm_client.get(DASHBOARD)
    figures_changed()  # both counts with the figure cards counted anew: the most a request costs
    small, _ = count_queries(cm_client, DASHBOARD)
    add_busy_episodes(95, clinic, care_manager, start=5)

    large, _ = count_queries(cm_client, DASHBOARD)

    assert small == large < 16


# --- Today ------------------------------------------------------------------------------


def test_today_lists_who_is_due_or_overdue_with_phones_safety_first(cm_client, clinic, care_manager):
    def patient(last, phone, *, last_contact=None, next_on=None, enrolled=-60):
        episode = EpisodeFactory(
            patient__clinic=clinic,
            patient__care_manager=care_manager,
            patient__last_name=last,
            patient__phone=phone,
            enrolled_on=day(enrolled),
            status="active",
        )
        if last_contact is not None:
            record_contact(episode, day(last_contact), care_manager, next_contact_on=next_on)
        return episode

    due_today = patient("Today", "555-0001", last_contact=-7, next_on=day(0))
    long_overdue = patient("Longest", "555-0002", last_contact=-40, next_on=day(-26))
    overdue = patient("Later", "555-0003", last_contact=-20, next_on=day(-6))
    safety = patient("Safety", "555-0004", last_contact=-10, next_on=day(-1))
    services.raise_flag(episode=safety, kind=Flag.Kind.SAFETY, by=care_manager, reason="Item 9")
    patient("Tomorrow", "555-0005", last_contact=-2, next_on=day(1))  # not due yet
    never = patient("Never", "", enrolled=-3)  # due from enrollment

    response = cm_client.get(reverse("registry:today"))

    assert [row.pk for row in response.context["rows"]] == [
        safety.pk,
        long_overdue.pk,
        overdue.pk,
        never.pk,
        due_today.pk,
    ]
    page = response.content.decode()
    assert 'href="tel:555-0002"' in page
    assert "no phone recorded" in page
    assert "Tomorrow" not in page


def test_today_queries_do_not_grow_with_the_list(cm_client, clinic, care_manager):
    add_busy_episodes(5, clinic, care_manager, start=20)  # last contacts 20-24 days ago: overdue
    cm_client.get(reverse("registry:today"))
    small, _ = count_queries(cm_client, reverse("registry:today"))
    add_busy_episodes(60, clinic, care_manager, start=25)

    large, response = count_queries(cm_client, reverse("registry:today"))

    assert len(response.context["rows"]) > 5
    assert small == large


# --- Search ------------------------------------------------------------------------------


@pytest.fixture
def hoa(clinic, care_manager):
    EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, patient__last_name="Sanders")
    return EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=care_manager,
        patient__first_name="Hoa",
        patient__last_name="Sanchez",
        patient__mrn="E7731205",
    )


@pytest.mark.parametrize("typed", ["Sanchez, Hoa", "Hoa Sanchez", "sanchez,hoa", "E7731", "e773"])
def test_search_finds_a_patient_as_people_type_them(cm_client, hoa, typed):
    cm_client.post(DASHBOARD, {"q": typed})

    assert pks_of(cm_client.get(DASHBOARD)) == [hoa.pk]


def test_an_mrn_is_matched_from_its_start_only(cm_client, hoa):
    cm_client.post(DASHBOARD, {"q": "31205"})

    assert pks_of(cm_client.get(DASHBOARD)) == []


def test_an_active_search_is_shown_with_a_clear_button(cm_client, hoa):
    cm_client.post(DASHBOARD, {"q": "Sanchez, Hoa"})

    page = cm_client.get(DASHBOARD).content.decode()
    cm_client.post(DASHBOARD, {"q": ""})
    cleared = cm_client.get(DASHBOARD)

    assert "data-active-search" in page and "Sanchez, Hoa" in page
    assert 'name="q" value="">Clear search</button>' in page
    assert "data-active-search" not in cleared.content.decode()
    assert len(pks_of(cleared)) == 2


def age_search(client, seconds: float) -> None:
    """The kept search as if last used this many seconds ago."""
    session = client.session
    session["caseload_search"]["at"] -= seconds
    session.save()


def test_a_search_lapses_when_left_unused(cm_client, hoa):
    cm_client.post(DASHBOARD, {"q": "Sanchez"})
    assert len(pks_of(cm_client.get(DASHBOARD))) == 1
    age_search(cm_client, SEARCH_KEPT_FOR.total_seconds() + 1)

    response = cm_client.get(DASHBOARD)

    assert len(pks_of(response)) == 2
    assert "data-active-search" not in response.content.decode()
    assert "caseload_search" not in cm_client.session


def test_a_search_in_use_is_kept(cm_client, hoa):
    cm_client.post(DASHBOARD, {"q": "Sanchez"})
    age_search(cm_client, SEARCH_KEPT_FOR.total_seconds() - 60)

    assert len(pks_of(cm_client.get(DASHBOARD))) == 1  # used now: kept for another while
    assert time.time() - cm_client.session["caseload_search"]["at"] < 5
