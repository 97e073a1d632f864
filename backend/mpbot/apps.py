from django.apps import AppConfig


class MpbotConfig(AppConfig):
    name = "backend.mpbot"
    label = "mpbot"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from backend.accounts.services import unionid_lookups
        from backend.mpbot.followers import user_for_unionid

        # A first mini-program login with a follower's unionid joins the follower's account.
        unionid_lookups.append(user_for_unionid)
