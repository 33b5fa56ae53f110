"""Diagnoses as the initial assessment and the consultation note both record them: ICD-10-CM
codes, the common ones with their labels. One vocabulary for both, so they agree."""

import re

from django.core.exceptions import ValidationError

ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$")
# Labels for the codes behavioral health in primary care uses most; any valid code is accepted.
COMMON_DIAGNOSES = {
    "F32.0": "Major depressive disorder, single episode, mild",
    "F32.1": "Major depressive disorder, single episode, moderate",
    "F32.2": "Major depressive disorder, single episode, severe without psychotic features",
    "F32.9": "Major depressive disorder, single episode, unspecified",
    "F32.A": "Depression, unspecified",
    "F33.0": "Major depressive disorder, recurrent, mild",
    "F33.1": "Major depressive disorder, recurrent, moderate",
    "F33.2": "Major depressive disorder, recurrent, severe without psychotic features",
    "F33.9": "Major depressive disorder, recurrent, unspecified",
    "F34.1": "Dysthymic disorder",
    "F41.0": "Panic disorder",
    "F41.1": "Generalized anxiety disorder",
    "F41.9": "Anxiety disorder, unspecified",
    "F43.10": "Post-traumatic stress disorder, unspecified",
    "F43.23": "Adjustment disorder with mixed anxiety and depressed mood",
    "F10.20": "Alcohol dependence, uncomplicated",
    "F31.9": "Bipolar disorder, unspecified",
}


def clean_diagnoses(codes) -> list[str]:
    """ICD-10 codes, upper-cased, each once, in the order given."""
    cleaned = []
    for raw in codes:
        code = raw.strip().upper()
        if not code:
            continue
        if not ICD10.match(code):
            raise ValidationError({"diagnoses": f"{raw.strip()!r} is not an ICD-10 code such as F33.1 or F41.1."})
        if code not in cleaned:
            cleaned.append(code)
    return cleaned
