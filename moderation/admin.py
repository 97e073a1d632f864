"""Django admin: the review queue (decisions go through the same services as the API) and the
word lists, which the filter picks up without a restart."""
from django.contrib import admin, messages

from core.errors import ServiceError
from moderation import services
from moderation.models import CaseEvent, ModerationCase, SensitiveWord, WordCategory


class SensitiveWordInline(admin.TabularInline):
    model = SensitiveWord
    extra = 1
    fields = ["word", "whole_word", "is_active"]
    show_change_link = False


@admin.register(WordCategory)
class WordCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "action", "description", "updated_at"]
    list_editable = ["action"]
    inlines = [SensitiveWordInline]


@admin.register(SensitiveWord)
class SensitiveWordAdmin(admin.ModelAdmin):
    list_display = ["word", "category", "whole_word", "is_active", "updated_at"]
    list_filter = ["category", "is_active", "whole_word"]
    list_editable = ["whole_word", "is_active"]
    search_fields = ["word"]


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ["at", "action", "actor", "provider", "reason", "data"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ModerationCase)
class ModerationCaseAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "subject_type", "subject", "user", "providers", "verdict",
                    "state", "decided_by", "decided_at"]
    list_filter = ["state", "subject_type", "verdict", "providers"]
    search_fields = ["subject_id", "text", "user__username"]
    inlines = [CaseEventInline]
    actions = ["approve", "reject"]
    readonly_fields = [f.name for f in ModerationCase._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the audit trail stays

    def _decide(self, request, queryset, decide, **kwargs):
        for case in queryset:
            try:
                decide(case_id=case.id, moderator=request.user, **kwargs)
            except ServiceError as exc:
                self.message_user(request, f"case {case.id}: {exc.message}", messages.WARNING)

    @admin.action(description="Approve (release the content)")
    def approve(self, request, queryset):
        self._decide(request, queryset, services.case_approve)

    @admin.action(description="Reject (delete the content)")
    def reject(self, request, queryset):
        self._decide(request, queryset, services.case_reject, reason="rejected in the admin")
