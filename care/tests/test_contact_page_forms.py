"""The forms of the record-contact page are drawn by the crispy fast path (carereg/lib/crispy_fast.py),
with the bytes crispy itself draws, blank and with an error beside every field that can have one."""

import pytest
from django.template import Context, Template

from care.forms import TreatmentForms
from carereg.lib.crispy_fast import render_crispy
from registry.forms import ContactForm

CRISPY = Template("{% load crispy_forms_tags %}{% crispy form %}")
CRISPY_FAST = Template("{% load crispy_fast %}{% crispy_fast form %}")


def contact_page_forms(data, episode) -> list:
    """Each form the record-contact page draws with `{% crispy_fast %}`, as the view makes them."""
    parts = TreatmentForms(data, episode=episode)
    token = {"submission": "2f1c7f4e-0000-4000-8000-000000000000"}  # else a new one each time
    forms = [ContactForm(data, clinic=episode.patient.clinic, initial=token), *parts.forms]
    for form in forms:
        form.is_valid()
    return forms


def invalid_post(medication, library) -> dict:
    return {
        "contact_date": "2099-01-01",
        "contact_time": "25:00",
        "kind": "nope",
        "minutes": "-3",
        "interventions": ["nope"],
        "note": "<keep> & this",
        "next_contact_on": "x",
        "submission": "not-a-uuid",
        f"med-{medication.pk}-side_effects": "dizzy",
        f"med-{medication.pk}-adherence": "sometimes?",
        "session-1-note": "a note without its intervention",
        "session-2-intervention": "problem_solving",
        "session-2-session_number": "9",
        "session-2-planned_sessions": "3",
        "referral-to_whom": "Dr <X>",
        "education-topics": [str(library[0].pk), "0"],
        "education-how": "zzz",
    }


@pytest.mark.parametrize("state", ["unbound", "invalid"])
def test_every_form_of_the_contact_page_is_drawn_fast_with_crispys_bytes(state, episode, medication, library):
    data = None if state == "unbound" else invalid_post(medication, library)
    crispy_forms, fast_forms = contact_page_forms(data, episode), contact_page_forms(data, episode)

    for crispy, fast in zip(crispy_forms, fast_forms, strict=True):
        context = {"form": fast, "csrf_token": "tok"}
        assert render_crispy(fast, Context(context)) is not None, type(fast).__name__
        drawn_fast = CRISPY_FAST.render(Context(context))
        assert drawn_fast == CRISPY.render(Context({"form": crispy, "csrf_token": "tok"})), type(fast).__name__
        if state == "invalid" and fast.errors:
            assert "is-invalid" in drawn_fast
    assert state == "unbound" or all(form.errors for form in fast_forms[:2])  # the errors were drawn too
