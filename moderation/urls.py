from django.urls import path

from moderation.api import CaseApproveApi, CaseListApi, CaseRejectApi, WeChatPushApi

urlpatterns = [
    path("cases", CaseListApi.as_view(), name="moderation-cases"),
    path("cases/<int:case_id>/approve", CaseApproveApi.as_view(), name="moderation-case-approve"),
    path("cases/<int:case_id>/reject", CaseRejectApi.as_view(), name="moderation-case-reject"),
    path("wechat/push", WeChatPushApi.as_view(), name="moderation-wechat-push"),
]
