"""Every read of patient data leaves an AccessEvent, written after the view has answered."""

import logging

from django.apps import apps
from django.db.models import Exists, OuterRef

from accounts.models import User
from audit.models import AccessEvent, Kind, Outcome
from audit.pages import Page, page_of
from audit.paths import patient_path
from carereg.proxy import client_address
from selfreport.models import Invitation, token_hash

log = logging.getLogger(__name__)
DENIED_STATUSES = {403, 404}
REFUSED_PATIENT_KEY = "audit-refused-patient"  # offered on the emergency access page


class AccessLogMiddleware:
    """Logs requests of signed-in users (and API clients, and patients on their self-report
    links) to the pages listed in audit.pages: who, when, from where, what, and the outcome."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)  # set by the resolver before the view ran
        if match is None:
            return response
        page = page_of(match.view_name, request.method)
        user = getattr(request, "user", None)  # the FHIR views set their client's service user
        signed_in = user is not None and user.is_authenticated
        if page is not None and (signed_in or page.kind == Kind.SELF_REPORT):
            try:
                record_access(request, response, page, match.kwargs, user if signed_in else None)
            except Exception:  # the page was served: a failed log write must not turn it into an error
                log.exception("Could not record the access event of %s", match.view_name)
        return response


def record_access(request, response, page: Page, kwargs: dict, user: User | None) -> AccessEvent:
    patient_id, clinic_id, member = _patient_of(page, kwargs, user)
    denied = response.status_code in DENIED_STATUSES
    if denied:
        outcome = Outcome.DENIED
    elif patient_id is not None and user is not None and not user.is_superuser and not member:
        outcome = Outcome.EMERGENCY  # shown outside the user's clinics: only an active grant does that
    else:
        outcome = Outcome.ALLOWED
    if denied and patient_id is not None and user is not None and page.kind == Kind.RECORD:
        request.session[REFUSED_PATIENT_KEY] = patient_id
    return AccessEvent.objects.create(
        user=user,
        username=user.get_username() if user is not None else "",
        remote_addr=client_address(request),
        method=request.method[:8],
        url_name=request.resolver_match.view_name[:100],
        kind=page.kind,
        outcome=outcome,
        status_code=response.status_code,
        patient_id=patient_id,
        clinic_id=clinic_id,
    )


def _patient_of(page: Page, kwargs: dict, user: User | None) -> tuple[int | None, int | None, bool]:
    """The patient and clinic the page's id names, and whether the user is of that clinic: one query."""
    if page.kind == Kind.SELF_REPORT:
        rows = Invitation.objects.filter(token_hash=token_hash(str(kwargs.get("token", ""))))
        path = "episode__patient"
    elif page.model is not None and page.kwarg in kwargs:
        model = apps.get_model(page.model)
        try:
            pk = int(kwargs[page.kwarg])
        except (TypeError, ValueError):
            return None, None, False
        path = patient_path(model)  # "" when the id is the patient's own
        rows = model.objects.filter(pk=pk)
    else:
        return None, None, False
    prefix = f"{path}__" if path else ""
    if user is not None:
        membership = User.clinics.through.objects.filter(user_id=user.pk, clinic_id=OuterRef(f"{prefix}clinic_id"))
        rows = rows.annotate(member=Exists(membership))
    fields = [f"{prefix}id", f"{prefix}clinic_id"] + (["member"] if user is not None else [])
    found = rows.values_list(*fields).first()
    if found is None:
        return None, None, False
    return found[0], found[1], bool(found[2]) if user is not None else False
