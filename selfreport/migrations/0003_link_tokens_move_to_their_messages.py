from django.db import migrations


def tokens_to_deliveries(apps, schema_editor):
    """Each link e-mailed so far becomes its invitation's first message, keeping its token's
    hash: the links patients hold go on working."""
    Invitation = apps.get_model("selfreport", "Invitation")
    Delivery = apps.get_model("selfreport", "Delivery")
    batch = []
    for invitation in Invitation.objects.order_by("pk").iterator(chunk_size=1000):
        batch.append(
            Delivery(
                invitation_id=invitation.pk,
                kind="link",
                channel="email",
                status="sent",
                to=invitation.email,
                created_at=invitation.sent_at,
                send_after=invitation.sent_at,
                sent_at=invitation.sent_at,
                status_changed_at=invitation.sent_at,
                attempts=1,
                token_hash=invitation.token_hash,
            )
        )
        if len(batch) == 1000:
            Delivery.objects.bulk_create(batch)
            batch = []
    Delivery.objects.bulk_create(batch)


def tokens_back_to_invitations(apps, schema_editor):
    Invitation = apps.get_model("selfreport", "Invitation")
    Delivery = apps.get_model("selfreport", "Delivery")
    for delivery in Delivery.objects.filter(kind="link", token_hash__isnull=False).iterator():
        Invitation.objects.filter(pk=delivery.invitation_id).update(token_hash=delivery.token_hash)
    for invitation in Invitation.objects.filter(token_hash__isnull=True):  # texts never sent: no link
        invitation.token_hash = "unused-" + str(invitation.pk)
        invitation.save(update_fields=["token_hash"])


class Migration(migrations.Migration):
    dependencies = [("selfreport", "0002_sms_channel_consent_and_deliveries")]

    operations = [migrations.RunPython(tokens_to_deliveries, tokens_back_to_invitations)]
