"""Every read of patient data leaves an AccessEvent, written after the view has answered."""

import logging

from django.apps import apps
from django.db.models import Exists, OuterRef

from accounts.models import User
from audit.models import AccessEvent, Kind, Outcome
from audit.pages import Page, page_of
from audit.paths import patient_path
from carereg.proxy import client_address
from selfreport.models import Invitation

log = logging.getLogger(__name__)
DENIED_STATUSES = {403, 404}
REFUSED_PATIENT_KEY = "audit-refused-patient"  # offered on the emergency access page


class AccessLogMiddleware:
    """Logs requests of signed-in users (and API clients, and patients on their self-report
    links) to the pages listed in audit.pages: who, when, from where, what, and the outcome.

    Only answers that showed a record, refused one, or accepted a form about one are logged
    (docs/access-log.md#what-is-logged): a session that has not given its second factor yet has
    not signed in, and is shown nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)  # set by the resolver before the view ran
        if match is None:
            return response
        page = page_of(match.view_name, request.method)
        user = getattr(request, "user", None)  # the FHIR views set their client's service user
        signed_in = user is not None and user.is_authenticated and not awaiting_second_factor(user)
        if page is not None and (signed_in or page.kind == Kind.SELF_REPORT):
            try:
                record_access(request, response, page, match.kwargs, user if signed_in else None)
            except Exception:  # the page was served: a failed log write must not turn it into an error
                log.exception("Could not record the access event of %s", match.view_name)
        return response


def awaiting_second_factor(user) -> bool:
    """A password given, the second factor not yet (django-otp's is_verified, set on session users);
    the API's service users have no second factor to give."""
    is_verified = getattr(user, "is_verified", None)
    return callable(is_verified) and not is_verified()


def outcome_of(status: int, method: str, *, names_a_patient: bool, outside: bool) -> Outcome | None:
    """What the answer did; None when it neither showed, refused nor accepted anything.

    A page is shown by a 2xx, or by a 400 that sends a patient's form back with its errors. A
    redirect after a POST is a form accepted (what it changed is in the record's history); a
    redirect after a GET shows nothing (the page it leads to logs itself), nor do 405 and 5xx.
    """
    if status in DENIED_STATUSES:
        return Outcome.DENIED
    if 300 <= status < 400:
        return Outcome.SUBMITTED if method == "POST" else None
    if 200 <= status < 300 or (status == 400 and names_a_patient):
        return Outcome.EMERGENCY if outside else Outcome.ALLOWED  # outside the user's clinics: only a grant shows it
    return None


def record_access(request, response, page: Page, kwargs: dict, user: User | None) -> AccessEvent | None:
    patient_id, clinic_id, member = _patient_of(page, kwargs, user)
    outside = patient_id is not None and user is not None and not user.is_superuser and not member
    outcome = outcome_of(response.status_code, request.method, names_a_patient=patient_id is not None, outside=outside)
    if outcome is None:
        return None
    if outcome == Outcome.DENIED and patient_id is not None and user is not None and page.kind == Kind.RECORD:
        request.session[REFUSED_PATIENT_KEY] = patient_id
    return write_event(
        request,
        user,
        kind=page.kind,
        outcome=outcome,
        status_code=response.status_code,
        patient_id=patient_id,
        clinic_id=clinic_id,
    )


def write_event(request, user: User | None, *, kind: str, outcome: str, status_code: int, patient_id, clinic_id):
    """The access event of this request (by the middleware, or by a view that logs a POST body's patient)."""
    return AccessEvent.objects.create(
        user=user,
        username=user.get_username() if user is not None else "",
        remote_addr=client_address(request),
        method=request.method[:8],
        url_name=request.resolver_match.view_name[:100],
        kind=kind,
        outcome=outcome,
        status_code=status_code,
        patient_id=patient_id,
        clinic_id=clinic_id,
    )


def _patient_of(page: Page, kwargs: dict, user: User | None) -> tuple[int | None, int | None, bool]:
    """The patient and clinic the page's id names, and whether the user is of that clinic: one query."""
    if page.kind == Kind.SELF_REPORT:
        rows = Invitation.objects.with_token(str(kwargs.get("token", "")))
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
