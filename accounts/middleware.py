import zoneinfo

from django.utils import timezone

SESSION_KEY = "clinic_timezone"


class ClinicTimezoneMiddleware:
    """Dates are calendar days in the clinic's time zone (clinical-rules 5).

    The zone of the user's first clinic is looked up once per session, not per request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = self._zone(request)
        if zone:
            with timezone.override(zoneinfo.ZoneInfo(zone)):
                return self.get_response(request)
        return self.get_response(request)

    @staticmethod
    def _zone(request) -> str | None:
        if not request.user.is_authenticated:
            return None
        if SESSION_KEY not in request.session:
            request.session[SESSION_KEY] = (
                request.user.visible_clinics().order_by("pk").values_list("timezone", flat=True).first() or ""
            )
        return request.session[SESSION_KEY] or None
