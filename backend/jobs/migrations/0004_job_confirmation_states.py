"""Two job states for voice descriptions: ``awaiting_confirmation`` (longer than the column
took) and ``cancelled``."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("jobs", "0003_job_inputs")]

    operations = [
        migrations.AlterField(
            model_name="job", name="state",
            field=models.CharField(
                choices=[("queued", "Queued"), ("held", "Held"), ("running", "Running"),
                         ("awaiting_confirmation", "Awaiting Confirmation"),
                         ("succeeded", "Succeeded"), ("failed", "Failed"),
                         ("blocked", "Blocked"), ("expired", "Expired"),
                         ("cancelled", "Cancelled")],
                db_index=True, default="queued", max_length=24)),
    ]
