"""Named inputs: each job's upload becomes its ``photo`` input."""

import django.db.models.deletion
from django.db import migrations, models


def photos_as_inputs(apps, schema_editor):
    Job, JobInput = apps.get_model("jobs", "Job"), apps.get_model("jobs", "JobInput")
    JobInput.objects.bulk_create(
        JobInput(job_id=job_id, name="photo", upload_id=upload_id)
        for job_id, upload_id in Job.objects.exclude(upload=None).values_list("id", "upload_id"))


class Migration(migrations.Migration):

    dependencies = [
        ('jobs', '0002_job_held'),
        ('uploads', '0002_upload_kind'),
    ]

    operations = [
        migrations.CreateModel(
            name='JobInput',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=16)),
                ('position', models.PositiveSmallIntegerField(default=0)),
                ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='inputs', to='jobs.job')),
                ('upload', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='job_inputs', to='uploads.upload')),
            ],
            options={
                'ordering': ['name', 'position'],
                'constraints': [models.UniqueConstraint(fields=('job', 'name', 'position'), name='one_upload_per_input_slot')],
            },
        ),
        migrations.RunPython(photos_as_inputs, migrations.RunPython.noop),
    ]
