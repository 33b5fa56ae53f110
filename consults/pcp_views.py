"""The PCP's home: the consultant's recommendations that have reached them and wait for their answer."""

import datetime

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import Role
from accounts.permissions import require
from consults.forms import ResponseForm
from consults.models import Recommendation
from registry.models import Flag
from registry.safety import attach_safety_facts

RECENT_ANSWERS = datetime.timedelta(days=30)


def pcp_home(request: HttpRequest) -> HttpResponse:
    """Only recommendations communicated to this PCP: one the care manager has not carried to
    them yet is not theirs to answer from here."""
    require(request.user.role == Role.MEDICAL_PROVIDER, "answer recommendations as a PCP")
    theirs = (
        Recommendation.objects.visible_to(request.user)
        .filter(review__signed_at__isnull=False, episode__patient__pcp=request.user)
        .select_related("episode__patient", "review__consultant", "communicated_by", "responded_by")
    )
    open_flags = Flag.objects.filter(resolved_at__isnull=True)
    awaiting = theirs.filter(status=Recommendation.Status.COMMUNICATED).prefetch_related(
        Prefetch("episode__flags", queryset=open_flags, to_attr="open_flags")
    )
    answered = theirs.filter(responded_by=request.user, responded_at__gte=timezone.now() - RECENT_ANSWERS)
    awaiting = list(awaiting.order_by("communicated_at", "pk")[:200])
    attach_safety_facts(recommendation.episode for recommendation in awaiting)
    return render(
        request,
        "consults/pcp_home.html",
        {
            "awaiting": awaiting,
            "answered": answered.order_by("-responded_at")[:20],
            "response_form": ResponseForm(),
        },
    )
