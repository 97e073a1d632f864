from django.contrib import admin

from backend.accounts.models import WechatAccount


@admin.register(WechatAccount)
class WechatAccountAdmin(admin.ModelAdmin):
    list_display = ("openid", "user", "unionid", "created_at", "last_login_at")
    search_fields = ("openid", "unionid")
    exclude = ("session_key",)
