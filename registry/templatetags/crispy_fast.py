"""`{% crispy_fast form %}`: crispy's `{% crispy form %}` with a faster path for plain layouts
(carereg/lib/crispy_fast.py). Here because the registry is the lowest app whose pages use it."""

from carereg.lib.crispy_fast import register

__all__ = ["register"]
