from io import StringIO

import pytest
from django.core.management import call_command

from care.models import EducationTopic
from care.starter_library import STARTER_TOPICS

pytestmark = pytest.mark.django_db


def test_create_clinic_gives_a_new_clinic_the_starter_library_once():
    out = StringIO()
    call_command("create_clinic", "east", name="Eastside Health", stdout=out)
    call_command("create_clinic", "east", name="Eastside Health", stdout=out)

    assert EducationTopic.objects.filter(clinic__code="east").count() == len(STARTER_TOPICS)
    assert out.getvalue().count("starter education topics") == 1
