"""Settle held images whose WeChat verdict never arrived (run it from a scheduler)."""
from django.core.management.base import BaseCommand

from moderation.services import cases_expire_wechat_waits


class Command(BaseCommand):
    help = ("Cases still waiting for WeChat's mediaCheckAsync push after MODERATION_WECHAT_PUSH_TIMEOUT "
            "seconds are settled by the fail-open/closed rule.")

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=float, default=None,
                            help="seconds (default: MODERATION_WECHAT_PUSH_TIMEOUT)")

    def handle(self, *args, older_than=None, **options):
        count = cases_expire_wechat_waits(older_than_seconds=older_than)
        self.stdout.write(f"{count} case(s) settled without WeChat's answer")
