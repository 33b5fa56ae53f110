from django.db import migrations


class Migration(migrations.Migration):
    """A link's token hash now lives on the message that carried it (Delivery)."""

    dependencies = [("selfreport", "0003_link_tokens_move_to_their_messages")]

    operations = [migrations.RemoveField(model_name="invitation", name="token_hash")]
