from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.mfa import current_code, demo_device
from accounts.models import User
from registry.demo import STAFF


class Command(BaseCommand):
    help = (
        "Print the current six-digit code of a demo account's authenticator, so the demo can be "
        "tried without a phone. Only with DEBUG on, and only for a demo account whose secret comes "
        "from the published demo seed."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError("demo_code works only in a development set-up (DEBUG on), never in production.")
        demo_usernames = {row[0] for row in STAFF} | {"admin"}
        user = User.objects.filter(username=username).first() if username in demo_usernames else None
        device = demo_device(user) if user else None
        if device is None:
            raise CommandError(f"{username!r} is not a demo account (load the demo with `manage.py seed_demo`).")
        self.stdout.write(current_code(device))
