"""Starting and cancelling bulk exports (docs/fhir.md#bulk-export); the work is in bulk.py, run
by a Celery worker."""

from django.db import transaction
from django.utils import timezone

from carereg.tasks import queue_on_commit
from fhirapi.bulk import delete_files
from fhirapi.models import ApiClient, BulkExport
from fhirapi.responses import FhirError, Issue
from fhirapi.tasks import run_bulk_export

# A client runs one export at a time: a second kick-off waits (429) rather than doubling the load.
ACTIVE_PER_CLIENT = 1
RETRY_AFTER_SECONDS = 60


@transaction.atomic
def start_export(*, client: ApiClient, request_url: str, resource_types: list[str], since) -> BulkExport:
    # The client's row is locked so that two kick-offs at once cannot both pass the check.
    ApiClient.objects.select_for_update().filter(pk=client.pk).first()
    active = BulkExport.objects.filter(
        client=client, status__in=[BulkExport.Status.QUEUED, BulkExport.Status.RUNNING]
    ).count()
    if active >= ACTIVE_PER_CLIENT:
        issue = Issue("An export of this client is still running: wait for it, or cancel it, first.", "throttled")
        raise FhirError(429, [issue], {"Retry-After": str(RETRY_AFTER_SECONDS)})
    export = BulkExport.objects.create(
        client=client,
        clinic=client.clinic,
        request_url=request_url[:1000],
        resource_types=resource_types,
        since=since,
    )
    queue_on_commit(run_bulk_export, export.pk)
    return export


@transaction.atomic
def cancel_export(*, export: BulkExport) -> None:
    """DELETE on the status URL. A queued or running export stops at its next chunk and deletes
    what it wrote; a completed one's files are deleted now."""
    export = BulkExport.objects.select_for_update().get(pk=export.pk)  # as it is now, not as it was read
    was = export.status
    export.status, export.finished_at, export.progress = BulkExport.Status.CANCELLED, timezone.now(), "Cancelled"
    export.save(update_fields=["status", "finished_at", "progress"])
    if was == BulkExport.Status.COMPLETED:
        delete_files(export)
