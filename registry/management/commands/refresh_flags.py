import time

from django.core.management.base import BaseCommand

from registry.flags import refresh_flags


class Command(BaseCommand):
    help = "Bring every rule flag in line with the rules now (what the nightly job does), for cron users and tests."

    def handle(self, *args, **options):
        started = time.perf_counter()
        result = refresh_flags()
        seconds = time.perf_counter() - started
        for kind in result.raised:
            self.stdout.write(f"{kind}: raised {result.raised[kind]}, resolved {result.resolved[kind]}")
        self.stdout.write(f"Done in {seconds:.1f} s.")
