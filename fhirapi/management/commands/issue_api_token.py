import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Clinic, User
from fhirapi.clients import issue_api_client
from fhirapi.models import ApiClient


class Command(BaseCommand):
    help = (
        "Issue a FHIR API client for one clinic and print its token, once: the registry keeps only "
        "a hash. With --jwks, register a SMART Backend Services client instead and print its client_id. "
        "Revoke it in the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="Which system this is, e.g. 'Epic interface'")
        parser.add_argument("--clinic", required=True, help="Clinic code")
        parser.add_argument("--scope", required=True, help="read, or write (may also create questionnaire responses)")
        parser.add_argument("--by", help="Username of the person issuing it (recorded as created by)")
        parser.add_argument(
            "--jwks",
            type=Path,
            help='A JSON file holding the client\'s public key set, {"keys": [...]} (RS384 or ES384)',
        )

    def handle(self, *args, name, clinic, scope, by, jwks, **options):
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
        client = ApiClient(name=name, clinic=chosen, scope=scope, jwks=_key_set(jwks) if jwks else None)
        try:
            token = issue_api_client(client=client, by=issuer)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if token is None:
            self.stderr.write(f"Registered {scope} client {name!r} at {chosen.code} with its keys. Its client_id:")
            self.stdout.write(client.client_id)
            return
        self.stderr.write(f"Issued {scope} token for {name!r} at {chosen.code}. It is shown only now:")
        self.stdout.write(token)


def _key_set(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise CommandError(f"Could not read a JSON key set from {path}: {error}") from None
