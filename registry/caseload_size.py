"""Caseload size against the AIMS Center range for the clinic's population, scaled by FTE
(docs/clinical-definitions.md#caseload-size).

A care manager's active caseload is their open episodes (enrolled, active treatment, relapse
prevention). The range per 1.0 FTE comes from the clinic's `caseload_population` setting;
it is multiplied by the care manager's FTE (none recorded: 1.0) and rounded half up to
whole patients. A care manager who works in several clinics is compared with the range of
the clinic that holds most of their caseload.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, QuerySet

from accounts.models import Role, User
from patients.models import Episode
from registry.models import CASELOAD_RANGES, CaseloadPopulation, RegistrySettings

DEFAULT_POPULATION = RegistrySettings._meta.get_field("caseload_population").default


def scaled_range(population: str, fte: Decimal | None) -> tuple[int, int]:
    """The AIMS range per 1.0 FTE times the FTE, rounded half up: (60, 80) at 0.8 FTE is (48, 64)."""
    factor = Decimal("1") if fte is None else Decimal(fte)
    low, high = CASELOAD_RANGES[CaseloadPopulation(population)]
    return tuple(int((bound * factor).quantize(Decimal("1"), rounding=ROUND_HALF_UP)) for bound in (low, high))


def status_of(count: int, low: int, high: int) -> str:
    return "below" if count < low else "above" if count > high else "within"


@dataclass(frozen=True)
class CaseloadSize:
    care_manager: User
    count: int
    population: str
    low: int
    high: int

    @property
    def fte(self) -> Decimal:
        return self.care_manager.fte if self.care_manager.fte is not None else Decimal("1.00")

    @property
    def fte_text(self) -> str:
        """0.8, 0.75, 1.0: as people say it."""
        text = f"{self.fte:.2f}".rstrip("0")
        return text + "0" if text.endswith(".") else text

    @property
    def status(self) -> str:
        return status_of(self.count, self.low, self.high)

    @property
    def population_label(self) -> str:
        return CaseloadPopulation(self.population).label


def caseload_sizes(care_managers: QuerySet[User], episodes: QuerySet[Episode]) -> list[CaseloadSize]:
    """One size per care manager, counting their open episodes among `episodes`: three queries."""
    managers = list(care_managers.filter(role=Role.CARE_MANAGER).prefetch_related("clinics").order_by("last_name"))
    per_clinic = (
        episodes.open()
        .filter(patient__care_manager__in=[m.pk for m in managers])
        .order_by()
        .values_list("patient__care_manager", "patient__clinic")
        .annotate(n=Count("pk"))
    )
    counts: dict[int, dict[int, int]] = {}
    for manager_id, clinic_id, n in per_clinic:
        counts.setdefault(manager_id, {})[clinic_id] = n
    clinic_ids = {c.pk for m in managers for c in m.clinics.all()} | {c for by in counts.values() for c in by}
    populations = dict(
        RegistrySettings.objects.filter(clinic__in=clinic_ids).values_list("clinic_id", "caseload_population")
    )
    sizes = []
    for manager in managers:
        by_clinic = counts.get(manager.pk, {})
        home = max(by_clinic, key=lambda c: (by_clinic[c], -c), default=None)
        if home is None:
            home = min((c.pk for c in manager.clinics.all()), default=None)
        population = populations.get(home, DEFAULT_POPULATION)
        low, high = scaled_range(population, manager.fte)
        sizes.append(CaseloadSize(manager, sum(by_clinic.values()), population, low, high))
    return sizes


def caseload_size_of(user: User) -> CaseloadSize | None:
    """A care manager's own caseload size, over the patients of their clinics; None for other roles."""
    if user.role != Role.CARE_MANAGER:
        return None
    (size,) = caseload_sizes(User.objects.filter(pk=user.pk), Episode.objects.visible_to(user))
    return size
