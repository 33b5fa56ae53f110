"""Reviews recorded before notes had a draft state were records of reviews held: sign them."""

from django.db import migrations
from django.db.models import F


def sign_existing(apps, schema_editor):
    CaseReview = apps.get_model("consults", "CaseReview")
    unsigned = CaseReview.objects.filter(signed_at__isnull=True).exclude(summary="")
    unsigned.filter(assessment="").update(assessment=F("summary"))
    unsigned.update(signed_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [("consults", "0002_amendment_historicalamendment_and_more")]

    operations = [migrations.RunPython(sign_existing, migrations.RunPython.noop)]
