"""Writes each text to a file of its own in SMS_FILE_PATH, as Django's file e-mail backend does
for development and tests: one file per message, named by time so they sort in order."""

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from selfreport.sms.backends.base import BaseSmsBackend, as_text


class SmsBackend(BaseSmsBackend):
    def __init__(self, *, file_path: str | None = None, **kwargs):
        super().__init__(**kwargs)
        path = file_path or getattr(settings, "SMS_FILE_PATH", "")
        if not path:
            raise ImproperlyConfigured("The file SMS backend needs SMS_FILE_PATH: the directory to write texts in.")
        self.directory = Path(path)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ImproperlyConfigured(f"SMS_FILE_PATH {path!r} cannot be made a directory: {error}") from None
        if not os.access(self.directory, os.W_OK):
            raise ImproperlyConfigured(f"SMS_FILE_PATH {path!r} is not writable.")

    def send_messages(self, messages: list) -> int:
        for message in messages:
            name = f"{timezone.now():%Y%m%d-%H%M%S-%f}-{uuid.uuid4().hex[:8]}"
            (self.directory / f"{name}.txt").write_text(as_text(message), encoding="utf-8")
            message.provider_id = f"file-{name}"
        return len(messages)
