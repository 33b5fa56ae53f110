from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import Role
from accounts.permissions import require
from interchange import exporter
from interchange.forms import ImportForm
from interchange.importer import COLUMNS, import_registry
from interchange.models import ExportRun, ImportRun
from patients.models import Episode
from registry.caseload import CaseloadFilter, scope_to_team
from registry.dashboard_forms import CaseloadForm, active_search


def can_import(user) -> bool:
    """Loading data into a clinic is the clinic admin's (data manager's) job (clinical-rules 11)."""
    return user.is_superuser or user.role == Role.CLINIC_ADMIN


def upload(request: HttpRequest) -> HttpResponse:
    require(can_import(request.user), "import registry data")
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = import_registry(files=form.contents(), by=request.user, how=ImportRun.How.UPLOAD)
        if result.succeeded:
            messages.success(request, "The files are imported.")
    return render(request, "interchange/import.html", {"form": form, "result": result, "columns": COLUMNS})


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
    response = StreamingHttpResponse(
        exporter.csv_lines(exporter.export_rows(episodes, today, choices["sort"])), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="{exporter.filename(today)}"'
    response["Cache-Control"] = "no-store"  # patient data: no copies in browser or proxy caches
    return response
