"""Who may call the FHIR interface (API clients and their tokens), and every call they made.

A separate app from `interchange` because it has its own way in (tokens, not sessions) and
its own audit trail. The token itself is never stored: only its SHA-256, so a copy of the
database does not give anyone access.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from accounts.models import Clinic
from accounts.scoping import in_users_clinics
from fhirapi.jwks import validate_public_jwks


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
    # Empty for a client that authenticates with its key set (SMART Backend Services) instead.
    token_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)
    client_id = models.CharField(
        max_length=64,
        unique=True,
        null=True,
        editable=False,
        help_text="SMART Backend Services: the client_id the system signs its assertions with.",
    )
    jwks = models.JSONField(
        "public key set (JWKS)",
        null=True,
        blank=True,
        validators=[validate_public_jwks],
        help_text='SMART Backend Services: the system\'s public keys, {"keys": [...]}, RS384 or ES384, each '
        "with a kid. Replace it to rotate keys. Leave empty for a client with a static token.",
    )
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
    def uses_keys(self) -> bool:
        return self.client_id is not None


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


class AccessToken(models.Model):
    """A short-lived token issued at the SMART token endpoint. Only its SHA-256 is kept, as for
    static tokens; `scopes` is what was granted, as the client asked for it."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="access_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"access token of {self.client_id} until {self.expires_at:%Y-%m-%d %H:%M:%S}"


class UsedAssertion(models.Model):
    """The jti of each assertion a client has exchanged, kept until the assertion expires: the
    unique key refuses a replay even when both copies arrive at once."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "jti"], name="usedassertion_jti_once_per_client")]

    def __str__(self) -> str:
        return f"{self.jti} of client {self.client_id}"


class BulkExport(models.Model):
    """One $export request (FHIR Bulk Data Access): its kick-off, its progress and its files.

    The key is a random UUID: it names the export in its status URL, seen only by the client
    that asked (the id stays a number, which is what tasks take). The row
    stays after the files are deleted (expired) or the export is cancelled, as a record of what
    left the registry."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired (files deleted)"

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="exports")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    request_url = models.CharField(max_length=1000, help_text="The kick-off request, as the manifest repeats it.")
    resource_types = models.JSONField(help_text="The resource types exported, in order.")
    since = models.DateTimeField(null=True, blank=True, help_text="_since: only resources changed after it.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.CharField(max_length=100, blank=True)
    transaction_time = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "bulk export"

    def __str__(self) -> str:
        return f"export {self.key} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class BulkExportFile(models.Model):
    """One NDJSON file of an export: one resource a line, all of one type."""

    export = models.ForeignKey(BulkExport, on_delete=models.CASCADE, related_name="files")
    resource_type = models.CharField(max_length=40)
    name = models.CharField(max_length=100)
    count = models.PositiveIntegerField(default=0)
    size = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["export", "name"], name="bulkexportfile_name_unique")]

    def __str__(self) -> str:
        return self.name
