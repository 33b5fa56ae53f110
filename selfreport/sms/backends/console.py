"""Writes each text to standard output: development only (the console shows links and numbers)."""

import sys
import threading

from selfreport.sms.backends.base import BaseSmsBackend, as_text


class SmsBackend(BaseSmsBackend):
    def __init__(self, *, stream=None, **kwargs):
        super().__init__(**kwargs)
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def send_messages(self, messages: list) -> int:
        with self._lock:
            for message in messages:
                self.stream.write(as_text(message))
                self.stream.write("-" * 79 + "\n")
            self.stream.flush()
        return len(messages)
