"""``held`` becomes a job state: rows that said it with ``blocked`` plus the error code
``under_review`` move to it; the text column takes the one text limit (100)."""
from django.db import migrations, models

HELD_MESSAGE = "This content is waiting for a moderator; you will be notified."


def to_held(apps, schema_editor):
    Job = apps.get_model("jobs", "Job")
    Job.objects.filter(state="blocked", error_code="under_review").update(
        state="held", error_code="", error_message="", message=HELD_MESSAGE, finished_at=None)


def to_blocked(apps, schema_editor):
    Job = apps.get_model("jobs", "Job")
    Job.objects.filter(state="held").update(
        state="blocked", error_code="under_review", error_message=HELD_MESSAGE, message="")


class Migration(migrations.Migration):

    dependencies = [("jobs", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="job", name="state",
            field=models.CharField(choices=[("queued", "Queued"), ("held", "Held"),
                                            ("running", "Running"), ("succeeded", "Succeeded"),
                                            ("failed", "Failed"), ("blocked", "Blocked"),
                                            ("expired", "Expired")],
                                   db_index=True, default="queued", max_length=12)),
        migrations.AlterField(
            model_name="job", name="text",
            field=models.CharField(blank=True, default="", max_length=100)),
        migrations.RunPython(to_held, to_blocked),
    ]
