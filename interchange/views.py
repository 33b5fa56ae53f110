from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.permissions import can_administer_clinic, require
from carereg.lib import csv as csv_file
from interchange import exporter, jobs, tasks
from interchange.forms import ImportForm
from interchange.importer import MAX_ERRORS_LISTED, import_registry
from interchange.importing.columns import COLUMNS
from interchange.models import ExportRun, ImportJob, ImportRun
from patients.models import Episode
from registry.caseload import CaseloadFilter, scope_to_team
from registry.dashboard_forms import CaseloadForm, active_search

RECENT_JOBS = 5
REFRESH_SECONDS = 3


def upload(request: HttpRequest) -> HttpResponse:
    """Small uploads are imported in the request; large ones by a worker, followed on their own page."""
    require(can_administer_clinic(request.user), "import registry data")
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        if form.row_count > settings.CAREREG_IMPORT_BACKGROUND_ROWS:
            job = jobs.store_upload(files=form.contents(), by=request.user, rows=form.row_count)
            tasks.queue_import(job.pk)
            return redirect("interchange:import_job", pk=job.pk)
        result = import_registry(files=form.contents(), by=request.user, how=ImportRun.How.UPLOAD)
        if result.succeeded:
            messages.success(request, "The files are imported.")
    context = {
        "form": form,
        "result": result,
        "columns": COLUMNS,
        "jobs": ImportJob.objects.filter(by=request.user)[:RECENT_JOBS],
        "max_errors": MAX_ERRORS_LISTED,
        "max_rows": settings.CAREREG_IMPORT_MAX_ROWS,
        "background_rows": settings.CAREREG_IMPORT_BACKGROUND_ROWS,
    }
    failed = request.method == "POST" and (result is None or not result.succeeded)
    return render(request, "interchange/import.html", context, status=400 if failed else 200)


@require_GET
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """A background import's page: how far it is (refreshed every few seconds), then what it did."""
    job = get_object_or_404(ImportJob.objects.visible_to(request.user), pk=pk)
    require(can_administer_clinic(request.user), "import registry data")
    context = {"job": job, "progress": None if job.finished else jobs.progress_of(job)}
    response = render(request, "interchange/import_job.html", context)
    if not job.finished:
        response["Refresh"] = str(REFRESH_SECONDS)  # a header, not a script: the page follows the worker
    return response


@require_GET
def download(request: HttpRequest) -> HttpResponse:
    """The dashboard's rows as CSV: the same caseload, filters, sort and session-held search.

    Only non-identifying choices travel in the URL; the search text stays in the session.
    """
    choices = CaseloadForm(request.GET, user=request.user).cleaned()
    search = active_search(request.session)
    today = timezone.localdate()  # the clinic's day: the streamed body is written after the middleware returns
    caseload = scope_to_team(Episode.objects.visible_to(request.user).open(), request.user, choices["team"])
    episodes = CaseloadFilter(status=choices["status"], flags=choices["flags"], search=search).apply(caseload)
    exporter.record_export(
        by_username=request.user.username,
        how=ExportRun.How.DOWNLOAD,
        clinics=request.user.visible_clinics(),
        filters={
            "team": choices["team"],
            "status": choices["status"],
            "flags": list(choices["flags"]),
            "search": bool(search),
        },
        patient_count=episodes.count(),
    )
    return csv_file.streaming_response(exporter.filename(today), exporter.export_rows(episodes, today, choices["sort"]))
