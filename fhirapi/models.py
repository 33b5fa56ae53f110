"""Who may call the FHIR interface (API clients and their tokens), and every call they made.

A separate app from `interchange` because it has its own way in (tokens, not sessions) and
its own audit trail. The token itself is never stored: only its SHA-256, so a copy of the
database does not give anyone access.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from accounts.models import Clinic
from accounts.scoping import in_users_clinics


class ApiClientQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ApiClientQuerySet":
        return in_users_clinics(self, user, "clinic")


class ApiClient(models.Model):
    """A system (an EHR interface, a patient app) allowed to call the API for one clinic."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write (create questionnaire responses)"

    name = models.CharField(max_length=100, help_text="Which system this is, e.g. 'Epic interface'.")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="api_clients")
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # Scores the client sends are recorded by this account, so history says which system did it.
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client", editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        help_text="Empty when issued with manage.py issue_api_token.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["last_used_at"])

    objects = ApiClientQuerySet.as_manager()

    class Meta:
        ordering = ["clinic", "name"]
        verbose_name = "API client"
        constraints = [
            models.CheckConstraint(name="apiclient_scope_valid", condition=models.Q(scope__in=["read", "write"])),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.clinic.code}, {self.scope})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE


class ApiCallLog(models.Model):
    """One row per API call. Says what was done, never to whom: the path holds ids only, the
    query string's values (an MRN searched for) are never kept, only the parameters' names."""

    client = models.ForeignKey(
        ApiClient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
        help_text="Empty when the call had no valid token.",
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=200, help_text="Without the query string.")
    parameters = models.CharField(max_length=200, blank=True, help_text="Names of the search parameters, no values.")
    resource_type = models.CharField(max_length=40, blank=True)
    resource_id = models.CharField(max_length=64, blank=True)
    status_code = models.PositiveSmallIntegerField()
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "API call"

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status_code} at {self.at:%Y-%m-%d %H:%M:%S}"


class ResponseIdentifier(models.Model):
    """The business identifier a client gave a QuestionnaireResponse it posted (in the resource,
    or in its If-None-Exist search), kept with the score the post created.

    A client that sends the same response again (a retry after a timeout or a lost answer)
    sends the same identifier: the unique key lets only the first post store a score, even when
    both arrive at once, and the retry is given the score already stored. Identifiers are the
    sending systems' own, so the key is per clinic. Not a clinical record: no history.
    """

    measurement = models.OneToOneField(
        "registry.Measurement", on_delete=models.CASCADE, related_name="fhir_identifier", editable=False
    )
    # The token's clinic, kept here so that the database itself holds the key per clinic.
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", editable=False)
    system = models.CharField(max_length=255, blank=True, help_text="Empty when the client sent none.")
    value = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "system", "value"], name="responseidentifier_unique_in_clinic"),
            models.CheckConstraint(name="responseidentifier_value_set", condition=~models.Q(value="")),
        ]

    def __str__(self) -> str:
        return f"{self.system}|{self.value}" if self.system else self.value
