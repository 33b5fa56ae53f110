"""A synthetic demo registry: plausible patients who are no real people.

Deterministic for a seed (and the day it runs, since dates count back from today). Rows are
built in memory and written with bulk inserts (history rows included), then every episode's
summary is computed by the same set-based refresh the app uses, so 10,000 patients take
seconds, not minutes.
"""

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Clinic, Role, User
from accounts.provisioning import ensure_clinic, ensure_staff
from carereg.lib.bulk import bulk_create_with_history
from patients.models import Episode, Patient
from registry.definitions.improvement import is_improved
from registry.flags import refresh_flags
from registry.instruments import INSTRUMENTS
from registry.models import ITEM_FIELDS, Contact, Flag, Intervention, Measurement, SafetyAssessment
from registry.scoring import GAD7, PHQ9, score
from registry.summaries import refresh_summaries

DEMO_PASSWORD = "carereg-demo-2026"

CLINICS = [
    ("north", "North Valley Family Medicine", "America/Los_Angeles"),
    ("east", "Eastside Community Health Center", "America/Los_Angeles"),
]
# (username, first, last, role, clinics, fte)
STAFF = [
    ("maria", "Maria", "Lopez", Role.CARE_MANAGER, ["north"], "1.00"),
    ("james", "James", "Okafor", Role.CARE_MANAGER, ["north"], "0.80"),
    ("priya", "Priya", "Shah", Role.CARE_MANAGER, ["east"], "1.00"),
    ("tom", "Tom", "Becker", Role.CARE_MANAGER, ["east"], "0.50"),
    ("drchen", "Lina", "Chen", Role.PSYCHIATRIC_CONSULTANT, ["north", "east"], None),
    ("drwells", "Aaron", "Wells", Role.MEDICAL_PROVIDER, ["north"], None),
    ("drgarcia", "Sofia", "Garcia", Role.MEDICAL_PROVIDER, ["north"], None),
    ("drnguyen", "Minh", "Nguyen", Role.MEDICAL_PROVIDER, ["east"], None),
    ("dana", "Dana", "Reyes", Role.CLINIC_ADMIN, ["north", "east"], None),
]

FIRST_NAMES = [
    "Ava",
    "Liam",
    "Olivia",
    "Noah",
    "Emma",
    "Elijah",
    "Sophia",
    "Mateo",
    "Isabella",
    "Lucas",
    "Mia",
    "Levi",
    "Amelia",
    "Ezra",
    "Harper",
    "Asher",
    "Evelyn",
    "Leo",
    "Abigail",
    "Kai",
    "Ella",
    "Jack",
    "Camila",
    "Luca",
    "Luna",
    "Owen",
    "Gianna",
    "Wyatt",
    "Aria",
    "Julian",
    "Nora",
    "Hudson",
    "Chloe",
    "Grayson",
    "Layla",
    "Ethan",
    "Riley",
    "Aiden",
    "Zoe",
    "Jayden",
    "Hannah",
    "Samuel",
    "Lily",
    "Carter",
    "Aaliyah",
    "Isaiah",
    "Maya",
    "Daniel",
    "Fatima",
    "Omar",
    "Ana",
    "Jose",
    "Rosa",
    "Miguel",
    "Thu",
    "Hoa",
    "Wei",
    "Jin",
    "Yusuf",
    "Amara",
    "Kofi",
    "Ngozi",
    "Dmitri",
    "Irina",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Tran",
    "Pham",
    "Kim",
    "Park",
    "Singh",
    "Patel",
    "Okafor",
    "Mensah",
    "Ivanova",
    "Novak",
]
LANGUAGES = ["English"] * 8 + ["Spanish", "Vietnamese"]
STREETS = ["Oak", "Maple", "Cedar", "Pine", "Elm", "Lake", "Hill", "Park", "River", "Main"]
PATTERNS = ["improve"] * 5 + ["stall"] * 3 + ["relapse"] * 2
# Past this many days since the initial assessment an open episode has been discussed with the
# consultant (the program's target is within 4 weeks; a few slip to 8).
NEW_FOR = datetime.timedelta(weeks=8)
# An item 9 answer's safety flag is assessed the same day, except the very latest ones: the
# demo shows a safety flag waiting only when its answer is this recent.
SAFETY_STILL_OPEN_FOR = datetime.timedelta(days=3)


# What the apps above add to the demo, registered when Django is ready (docs/architecture.md#layering):
# - EPISODE_STEPS run as each episode is built, with the DemoBuilder, the episode's index and
#   code=, assessed=, end=, improved= (consults: its case reviews and recommendations);
# - SAVED_STEPS, (order, step), run in order once the registry's rows are saved, with the Rows and
#   clinics=, seed=, today=, by= (consults saves its rows, care adds the treatment, then the plans);
# - REFRESHED_STEPS run with the clinics once the summaries and flags are true (the agendas).
EPISODE_STEPS: list[Callable] = []
SAVED_STEPS: list[tuple[int, Callable]] = []
REFRESHED_STEPS: list[Callable] = []


@dataclass
class Rows:
    patients: list = field(default_factory=list)
    episodes: list = field(default_factory=list)
    contacts: list = field(default_factory=list)
    measurements: list = field(default_factory=list)  # (measurement, contact index or None)
    flags: list = field(default_factory=list)  # (flag, measurement index)
    assessments: list = field(default_factory=list)  # (assessment, flag index)
    # Rows of the apps above, built by their EPISODE_STEPS and saved by their SAVED_STEPS.
    reviews: list = field(default_factory=list)  # case reviews, with _episode_index
    recommendations: list = field(default_factory=list)  # with _review_index


def ensure_staff_accounts() -> dict[str, list[User]]:
    clinics = {code: ensure_clinic(code=code, name=name, timezone=tz)[0] for code, name, tz in CLINICS}
    for username, first, last, role, codes, fte in STAFF:
        # Hashing is slow by design: set the password only for a new account.
        password = None if User.objects.filter(username=username).exists() else DEMO_PASSWORD
        for code in codes:
            ensure_staff(
                username=username,
                role=role,
                clinic=clinics[code],
                password=password,
                fte=Decimal(fte) if fte else None,
                first_name=first,
                last_name=last,
                email=f"{username}@example.org",
                check_password=False,
            )
            password = None
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "admin@example.org", DEMO_PASSWORD)
    return clinics


def _items_for(total: int, instrument, rng: random.Random, safety_answer: int = 0) -> list[int]:
    """Answers in range that add up to total; the instrument's safety item (PHQ-9 item 9), if any, as given."""
    answers = [0] * instrument.item_count
    if instrument.safety_item:
        answers[instrument.safety_item - 1] = safety_answer
    open_items = [i for i in range(instrument.item_count) if i + 1 != instrument.safety_item]
    # Each item can take up to its highest answer: draw the points among the items' free slots.
    slots = [i for i in open_items for _ in range(instrument.max_for(i + 1))]
    for i in rng.sample(slots, total - sum(answers)):
        answers[i] += 1
    return answers


def _trajectory(pattern: str, baseline: int, weeks: float, rng: random.Random) -> int:
    if pattern == "improve":
        value = baseline * max(0.15, 1 - weeks / 14) + rng.uniform(-2, 2)
    elif pattern == "stall":
        value = baseline - min(weeks / 6, 3) + rng.uniform(-2, 2)
    else:  # relapse: better by week 10, then worse again
        value = baseline * (max(0.3, 1 - weeks / 10) if weeks < 12 else min(1.0, 0.3 + (weeks - 12) / 12))
        value += rng.uniform(-2, 2)
    return round(min(max(value, 0), 27))


class DemoBuilder:
    def __init__(self, *, seed: int, today: datetime.date, clinics: dict[str, Clinic]):
        self.rng = random.Random(seed)
        self.today = today
        self.rows = Rows()
        self.staff = {
            code: {
                role: list(User.objects.filter(clinics=clinic, role=role).order_by("username")) for role in Role.values
            }
            for code, clinic in clinics.items()
        }
        self.clinics = clinics
        self.mrns = {
            code: set(Patient.objects.filter(clinic=clinic).values_list("mrn", flat=True))
            for code, clinic in clinics.items()
        }

    def build(self, count: int) -> Rows:
        codes = list(self.clinics)
        for n in range(count):
            # Every 20th patient was enrolled this week and waits for the initial assessment.
            self._patient(codes[n % len(codes)], just_enrolled=n % 20 == 7)
        return self.rows

    def _mrn(self, code: str) -> str:
        while True:
            mrn = f"{code[0].upper()}{self.rng.randrange(10**6, 10**7)}"
            if mrn not in self.mrns[code]:
                self.mrns[code].add(mrn)
                return mrn

    def _patient(self, code: str, just_enrolled: bool = False) -> None:
        rng, staff = self.rng, self.staff[code]
        born = self.today - datetime.timedelta(days=rng.randrange(18 * 365, 88 * 365))
        patient = Patient(
            clinic=self.clinics[code],
            mrn=self._mrn(code),
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(LAST_NAMES),
            birth_date=born,
            sex=rng.choice(["female", "female", "male", "male", "other"]),
            preferred_language=rng.choice(LANGUAGES),
            phone=f"555-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
            email="",
            address_line=f"{rng.randrange(10, 9999)} {rng.choice(STREETS)} St",
            city="Springfield",
            state="WA",
            postal_code=f"98{rng.randrange(100, 999)}",
            care_manager=rng.choice(staff[Role.CARE_MANAGER]),
            pcp=rng.choice(staff[Role.MEDICAL_PROVIDER]),
            psychiatric_consultant=rng.choice(staff[Role.PSYCHIATRIC_CONSULTANT]),
        )
        self.rows.patients.append(patient)
        patient_index = len(self.rows.patients) - 1
        if just_enrolled:
            start = self.today - datetime.timedelta(days=rng.randrange(0, 6))
            self.rows.episodes.append(
                Episode(enrolled_on=start, status=Episode.Status.ENROLLED, status_changed_on=start)
            )
            self.rows.episodes[-1]._patient_index = patient_index
            return
        if rng.random() < 0.06:  # came back: an earlier episode, discharged, then this one
            first_start = self.today - datetime.timedelta(days=rng.randrange(500, 900))
            self._episode(
                patient_index, code, first_start, force_discharge_before=self.today - datetime.timedelta(days=200)
            )
            start = self.today - datetime.timedelta(days=rng.randrange(0, 150))
        else:
            start = self.today - datetime.timedelta(days=int(rng.triangular(0, 540, 60)))
        self._episode(patient_index, code, start)

    def _episode(self, patient_index: int, code: str, start: datetime.date, force_discharge_before=None) -> None:
        rng = self.rng
        pattern = rng.choice(PATTERNS)
        baseline = rng.randrange(10, 25) if rng.random() < 0.9 else rng.randrange(5, 10)
        has_gad = rng.random() < 0.65
        gad_baseline = rng.randrange(8, 20)
        discharge_on = force_discharge_before
        if discharge_on is None and (self.today - start).days > 120 and rng.random() < 0.3:
            discharge_on = start + datetime.timedelta(days=rng.randrange(110, (self.today - start).days))
        end = discharge_on or self.today
        disengaged = rng.random() < 0.15  # contacts stop weeks before today: overdue
        if disengaged and discharge_on is None:
            end = max(start, self.today - datetime.timedelta(days=rng.randrange(18, 60)))
        episode = Episode(enrolled_on=start, status=Episode.Status.ENROLLED, status_changed_on=start)
        episode._patient_index = patient_index
        self.rows.episodes.append(episode)
        episode_index = len(self.rows.episodes) - 1
        recorder = self.rows.patients[patient_index].care_manager  # each patient's own care manager logs their care
        if rng.random() < 0.3:  # the screening that led to enrollment
            self._measurement(
                episode_index, None, PHQ9, baseline, start - datetime.timedelta(days=rng.randrange(1, 25)), recorder
            )
        assessed = start + datetime.timedelta(days=rng.randrange(0, 10))
        if discharge_on is None and assessed <= self.today - NEW_FOR:
            end = max(end, assessed)  # long open: they had their initial assessment before dropping away
        if assessed > end or ((self.today - start).days < 10 and rng.random() < 0.5):
            self._finish(episode, discharge_on, improved=False)
            return
        day, number, latest = assessed, 0, baseline
        while day <= end:
            weeks = (day - assessed).days / 7
            kind = Contact.Kind.INITIAL_ASSESSMENT if number == 0 else Contact.Kind.FOLLOW_UP
            reached = number == 0 or rng.random() > 0.12
            contact_index = self._contact(episode_index, day, kind, reached, recorder)
            if reached and (number == 0 or rng.random() < 0.8):
                latest = baseline if number == 0 else _trajectory(pattern, baseline, weeks, rng)
                self._measurement(episode_index, contact_index, PHQ9, latest, day, recorder)
                if has_gad:
                    gad = min(21, max(0, round(gad_baseline * latest / max(baseline, 1) + rng.uniform(-2, 2))))
                    self._measurement(episode_index, contact_index, GAD7, gad, day, recorder)
            number += 1
            day += datetime.timedelta(days=rng.choice([7, 10, 14, 14, 14, 21, 28]))
        improved = is_improved(baseline, latest)
        self._finish(episode, discharge_on, improved=improved, active=number > 0)
        for step in EPISODE_STEPS:  # with this builder's random numbers, so a seed gives one demo
            step(self, episode_index, code=code, assessed=assessed, end=end, improved=improved)

    def _finish(self, episode: Episode, discharge_on, *, improved: bool, active: bool = False) -> None:
        rng = self.rng
        if active:
            episode.status = Episode.Status.ACTIVE
            if improved and (self.today - episode.enrolled_on).days > 112 and rng.random() < 0.6:
                episode.status = Episode.Status.RELAPSE_PREVENTION
        if discharge_on is not None:
            episode.status = Episode.Status.DISCHARGED
            episode.discharged_on = discharge_on
            reasons = ["goals_met"] * 4 if improved else ["declined", "declined", "referred", "no_contact", "moved"]
            episode.discharge_reason = rng.choice(reasons + ["other"])
        episode.status_changed_on = episode.discharged_on or episode.enrolled_on

    def _contact(self, episode_index: int, day: datetime.date, kind: str, reached: bool, recorder: User) -> int:
        rng = self.rng
        interventions = rng.sample(Intervention.values, k=rng.randrange(0, 3)) if reached else []
        contact = Contact(
            contact_date=day,
            contact_time=datetime.time(rng.randrange(8, 17), rng.choice([0, 15, 30, 45])),
            kind=kind if reached else Contact.Kind.OUTREACH,
            with_whom=Contact.WithWhom.PATIENT,
            mode=rng.choice(["phone", "phone", "in_person", "video"]) if reached else "phone",
            reached=reached,
            minutes=(60 if kind == Contact.Kind.INITIAL_ASSESSMENT else rng.choice([15, 20, 25, 30, 45]))
            if reached
            else 5,
            interventions=interventions,
            note="Synthetic demo note." if reached else "Left a voicemail.",
            next_contact_on=day + datetime.timedelta(days=14) if reached and rng.random() < 0.7 else None,
            recorded_by=recorder,
        )
        contact._episode_index = episode_index
        self.rows.contacts.append(contact)
        return len(self.rows.contacts) - 1

    def _measurement(self, episode_index, contact_index, instrument, total, day, recorder) -> None:
        rng = self.rng
        safety_answer, safety_item = 0, instrument.safety_item
        if safety_item and total >= 12 and rng.random() < 0.015:
            safety_answer = rng.choice([1, 1, 2])
        if safety_item:
            total = min(total, instrument.max_total - instrument.max_for(safety_item) + safety_answer)
        answers = _items_for(total, instrument, rng, safety_answer)
        result = score(instrument, answers)
        measurement = Measurement(
            instrument=instrument.code,
            taken_on=day,
            total=result.total,
            band=result.band,
            recorded_by=recorder,
            **dict(zip(ITEM_FIELDS, answers, strict=False)),
        )
        measurement._episode_index, measurement._contact_index = episode_index, contact_index
        self.rows.measurements.append(measurement)


def _recent_item9_answers(rows: Rows, today: datetime.date) -> None:
    """In each clinic the open episode with the latest PHQ-9 of the last few days (10 or more)
    answers item 9 with 1, so the demo shows a safety flag waiting for its assessment. One point
    moves from another item: the total and band stay as scored."""
    latest: dict[int, int] = {}
    for index, m in enumerate(rows.measurements):
        episode = rows.episodes[m._episode_index]
        if m.instrument != PHQ9.code or m.total < 10 or episode.status == Episode.Status.DISCHARGED:
            continue
        if m.taken_on < today - SAFETY_STILL_OPEN_FOR:
            continue
        clinic = rows.patients[episode._patient_index].clinic_id
        if clinic not in latest or m.taken_on > rows.measurements[latest[clinic]].taken_on:
            latest[clinic] = index
    for index in latest.values():
        measurement = rows.measurements[index]
        safety_field = ITEM_FIELDS[PHQ9.safety_item - 1]
        if getattr(measurement, safety_field):
            continue
        donor = next(name for name in ITEM_FIELDS[: PHQ9.item_count] if getattr(measurement, name))
        setattr(measurement, donor, getattr(measurement, donor) - 1)
        setattr(measurement, safety_field, 1)


def _attach_safety_flags(rows: Rows, today: datetime.date) -> None:
    """The answers an instrument's safety rule calls for (PHQ-9 item 9, a C-SSRS high risk) raised
    safety flags, as the service would; all but each open episode's latest were assessed and closed."""
    raising = [
        (index, measurement)
        for index, measurement in enumerate(rows.measurements)
        if INSTRUMENTS[measurement.instrument].raises_safety_flag(measurement.answers)
    ]
    latest_by_episode = {measurement._episode_index: index for index, measurement in raising}
    for index, measurement in raising:
        episode = rows.episodes[measurement._episode_index]
        raised = timezone.make_aware(datetime.datetime.combine(measurement.taken_on, datetime.time(12)))
        flag = Flag(
            kind=Flag.Kind.SAFETY,
            raised_at=raised,
            raised_by=measurement.recorded_by,
            reason=INSTRUMENTS[measurement.instrument].safety_reason(measurement.answers, measurement.taken_on),
        )
        flag._episode_index, flag._measurement_index = measurement._episode_index, index
        stays_open = (
            episode.status != Episode.Status.DISCHARGED
            and latest_by_episode[measurement._episode_index] == index
            and measurement.taken_on >= today - SAFETY_STILL_OPEN_FOR
        )
        if measurement.taken_on < today:  # the care manager has opened the patient since: not "new"
            flag.seen_at, flag.seen_by = raised + datetime.timedelta(hours=1), measurement.recorded_by
        if not stays_open:
            flag.resolved_at = raised + datetime.timedelta(hours=3)
            flag.resolved_by = measurement.recorded_by
            flag.resolution_note = (
                "Safety assessment: Low risk. Passive thoughts, no plan or intent; safety plan reviewed."
            )
            assessment = SafetyAssessment(
                assessed_at=flag.resolved_at,
                assessed_by=measurement.recorded_by,
                risk_level="low",
                actions=["safety_plan", "crisis_resources"],
                note="Passive thoughts, no plan or intent; safety plan reviewed; 988 given.",
            )
            rows.assessments.append((assessment, len(rows.flags)))
        rows.flags.append(flag)


def _save(rows: Rows, by: User) -> None:
    def insert(model_rows):
        return bulk_create_with_history(model_rows, by=by)

    insert(rows.patients)
    for episode in rows.episodes:
        episode.patient = rows.patients[episode._patient_index]
    insert(rows.episodes)
    for contact in rows.contacts:
        contact.episode = rows.episodes[contact._episode_index]
    insert(rows.contacts)
    for measurement in rows.measurements:
        measurement.episode = rows.episodes[measurement._episode_index]
        if measurement._contact_index is not None:
            measurement.contact = rows.contacts[measurement._contact_index]
    insert(rows.measurements)
    for flag in rows.flags:
        flag.episode = rows.episodes[flag._episode_index]
        flag.measurement = rows.measurements[flag._measurement_index]
    insert(rows.flags)
    for assessment, flag_index in rows.assessments:
        assessment.flag = rows.flags[flag_index]
        assessment.episode = assessment.flag.episode
    insert([assessment for assessment, _ in rows.assessments])


@transaction.atomic
def seed_demo(*, patients: int, seed: int, today: datetime.date | None = None, refresh: bool = True) -> Rows:
    today = today or timezone.localdate()
    clinics = ensure_staff_accounts()
    rows = DemoBuilder(seed=seed, today=today, clinics=clinics).build(patients)
    _recent_item9_answers(rows, today)
    _attach_safety_flags(rows, today)
    admin = User.objects.get(username="admin")
    _save(rows, by=admin)
    for _order, step in sorted(SAVED_STEPS, key=lambda registered: registered[0]):
        step(rows, clinics=clinics, seed=seed, today=today, by=admin)
    demo_episodes = Episode.objects.filter(patient__clinic__in=clinics.values())
    refresh_summaries(demo_episodes)
    if refresh:
        refresh_flags(demo_episodes, today=today)
        for step in REFRESHED_STEPS:  # e.g. this week's caseload review agendas, ready to open
            step(clinics)
    return rows
