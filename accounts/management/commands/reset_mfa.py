from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.mfa import reset_mfa
from accounts.models import User


class Command(BaseCommand):
    help = (
        "Reset an account's second factor (lost phone): its authenticator app and backup codes are "
        "removed and its sessions end; it sets up a new app at its next login. Recorded in the "
        "account's history with the reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="Why, for the record (e.g. 'lost phone, ticket 123')")
        parser.add_argument("--by", help="Username of the admin doing it, for the record")

    def handle(self, *args, username, reason, by, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No account {username!r}.") from None
        actor = None
        if by:
            actor = User.objects.filter(username=by).first()
            if actor is None:
                raise CommandError(f"No account {by!r} for --by.")
        try:
            reset_mfa(user=user, by=actor, reason=reason)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(f"Reset the second factor of {user.username}: they set up a new app at their next login.")
