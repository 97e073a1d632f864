"""Load the word lists shipped in moderation/wordlists into the database."""
from django.core.management.base import BaseCommand

from moderation.services import wordlists_seed


class Command(BaseCommand):
    help = "Add the shipped sensitive-word lists to the database (keeps admins' edits)."

    def add_arguments(self, parser):
        parser.add_argument("--replace", action="store_true",
                            help="Reset the shipped categories to the files exactly.")

    def handle(self, *args, replace: bool = False, **options):
        outcome = wordlists_seed(replace=replace)
        self.stdout.write(f"{outcome['categories']} categories, {outcome['words_added']} words added")
