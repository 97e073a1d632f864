from django.apps import AppConfig


class MpbotConfig(AppConfig):
    name = "backend.mpbot"
    label = "mpbot"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from backend.accounts.services import unionid_lookups
        from backend.jobs.housekeeping import recoveries
        from backend.mpbot.followers import user_for_unionid
        from backend.mpbot.recovery import bot_recover

        # A first mini-program login with a follower's unionid joins the follower's account.
        unionid_lookups.append(user_for_unionid)
        # Workers (embedded or Celery) finish what a dead process left unsent, at their start
        # and with every sweep, whether or not a web process has started the sender.
        recoveries.append(bot_recover)
