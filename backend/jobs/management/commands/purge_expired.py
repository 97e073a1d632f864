from django.core.management.base import BaseCommand

from backend.jobs.housekeeping import housekeeping


class Command(BaseCommand):
    help = "Delete uploads and results past RETENTION_HOURS and fail jobs stuck past their deadline."

    def handle(self, *args, **options):
        report = housekeeping()
        self.stdout.write(f"deleted {report.results} results and {report.uploads} uploads "
                          f"({report.character_pictures} live character pictures); "
                          f"{report.jobs_expired} jobs expired; {len(report.failures)} failures "
                          "(retried next run)")
        for failure in report.failures:
            self.stderr.write(f"  {failure}")
