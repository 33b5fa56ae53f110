"""What Twilio calls: a patient's reply to the clinic's number, and the delivery reports of our
texts (docs/sms.md#webhooks).

No login and no CSRF token here (Twilio has neither): each request must carry Twilio's
signature of our URL and its parameters instead, or it is refused with 403. Nothing of the
request (a number, a message) is logged.
"""

import logging
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.twiml.messaging_response import MessagingResponse

from selfreport import consent, messaging
from selfreport.phone import mobile_number_or_none
from selfreport.sms.backends.twilio import request_is_from_twilio

log = logging.getLogger(__name__)


def _twilio_only(view):
    @wraps(view)
    def checked(request: HttpRequest) -> HttpResponse:
        if not request_is_from_twilio(request):
            log.warning("Refused a webhook request without a valid Twilio signature")
            return HttpResponseForbidden()
        return view(request)

    return csrf_exempt(login_not_required(require_POST(checked)))


@_twilio_only
def sms_inbound(request: HttpRequest) -> HttpResponse:
    """STOP, START, HELP or anything else, from a patient's phone: answered in TwiML."""
    reply = consent.handle_reply(
        phone_number=mobile_number_or_none(request.POST.get("From", "")), body=request.POST.get("Body", "")
    )
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return HttpResponse(str(response), content_type="application/xml")


@_twilio_only
def sms_status(request: HttpRequest) -> HttpResponse:
    messaging.record_provider_status(
        provider_message_id=request.POST.get("MessageSid", ""),
        status=request.POST.get("MessageStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)
