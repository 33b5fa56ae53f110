"""Play a patient's text reply without a provider, to try STOP, START and HELP in development
(docs/sms.md#trying-it): the same handling as Twilio's signed webhook, minus the signature."""

from django.core.management.base import BaseCommand, CommandError

from selfreport.consent import handle_reply
from selfreport.phone import mobile_number_or_none


class Command(BaseCommand):
    help = "Handle a text reply from NUMBER as if it had come through the provider's webhook."

    def add_arguments(self, parser):
        parser.add_argument("number", help="The patient's mobile number, e.g. +12065550123")
        parser.add_argument("body", help="What they replied, e.g. STOP")

    def handle(self, *args, number, body, **options):
        phone_number = mobile_number_or_none(number)
        if phone_number is None:
            raise CommandError(f"{number!r} is not a mobile number.")
        answer = handle_reply(phone_number=phone_number, body=body)
        self.stdout.write(f"Answer: {answer}" if answer else "No answer from us (the provider confirms STOP, START).")
