from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Clinic, User
from fhirapi.clients import issue_api_client
from fhirapi.models import ApiClient


class Command(BaseCommand):
    help = (
        "Issue a FHIR API client for one clinic and print its token, once: the registry keeps only "
        "a hash. Revoke it in the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="Which system this is, e.g. 'Epic interface'")
        parser.add_argument("--clinic", required=True, help="Clinic code")
        parser.add_argument("--scope", required=True, help="read, or write (may also create questionnaire responses)")
        parser.add_argument("--by", help="Username of the person issuing it (recorded as created by)")

    def handle(self, *args, name, clinic, scope, by, **options):
        if scope not in ApiClient.Scope.values:
            raise CommandError(f"Unknown scope {scope!r}: use read or write.")
        chosen = Clinic.objects.filter(code=clinic).first()
        if chosen is None:
            raise CommandError(
                f"No clinic {clinic!r}; codes: {', '.join(Clinic.objects.values_list('code', flat=True))}."
            )
        issuer = None
        if by:
            issuer = User.objects.filter(username=by, is_active=True).first()
            if issuer is None:
                raise CommandError(f"No active account {by!r}.")
        try:
            token = issue_api_client(client=ApiClient(name=name, clinic=chosen, scope=scope), by=issuer)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stderr.write(f"Issued {scope} token for {name!r} at {chosen.code}. It is shown only now:")
        self.stdout.write(token)
