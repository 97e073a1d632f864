"""The moderators' API: staff only, the pending queue with previews, approve and reject."""
import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from core.storage import get_storage
from moderation.models import CaseEvent, ModerationCase
from moderation.services import moderate_text
from tests.moderation.conftest import preview_status
from moderation.signals import case_decided

pytestmark = pytest.mark.django_db


def client_for(*, staff: bool):
    user = get_user_model().objects.create_user(username=f"{'staff' if staff else 'user'}-api", is_staff=staff)
    client = APIClient()
    client.force_authenticate(user)
    return client, user


def held_case(**fields) -> ModerationCase:
    defaults = dict(subject_type="upload", subject_id="abc", subject="upload", providers="nudenet",
                    labels=[{"provider": "nudenet", "label": "BUTTOCKS_EXPOSED", "score": 0.6,
                             "action": "review"}], verdict="review")
    return ModerationCase.objects.create(**(defaults | fields))


def test_non_staff_get_403_and_anonymous_401():
    client, _ = client_for(staff=False)
    case = held_case()
    assert client.get("/moderation/cases").status_code == 403
    assert client.post(f"/moderation/cases/{case.id}/approve").status_code == 403
    response = client.post(f"/moderation/cases/{case.id}/reject", {"reason": "x"}, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert APIClient().get("/moderation/cases").status_code == 401


def test_pending_queue_lists_cases_with_short_lived_previews():
    client, _ = client_for(staff=True)
    get_storage().put("u/1/uploads/abc.jpg", b"\xff\xd8fake", "image/jpeg")
    case = held_case(preview_key="u/1/uploads/abc.jpg")
    held_case(state="approved")
    body = client.get("/moderation/cases?state=pending").json()
    assert body["count"] == 1
    item = body["results"][0]
    assert (item["id"], item["state"], item["subject_type"], item["labels"][0]["label"]) == (
        case.id, "pending", "upload", "BUTTOCKS_EXPOSED")
    assert preview_status(client, item["preview_url"]) == 200
    assert client.get("/moderation/cases?state=all").json()["count"] == 2
    assert client.get("/moderation/cases?state=bogus").status_code == 400


def test_approve_releases_and_is_audited(decided):
    client, moderator = client_for(staff=True)
    case = held_case()
    response = client.post(f"/moderation/cases/{case.id}/approve", {"reason": "fine"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "approved" and response.json()["decided_by"] == moderator.username
    assert decided == [(case.id, "approved")]
    event = CaseEvent.objects.get(case=case, action="approved")
    assert (event.actor, event.reason) == (moderator, "fine")
    again = client.post(f"/moderation/cases/{case.id}/reject", {"reason": "changed my mind"}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_decided"


def test_reject_needs_a_reason_and_tells_the_backend(decided):
    client, moderator = client_for(staff=True)
    user = get_user_model().objects.create_user(username="writer")
    case = ModerationCase.objects.get(id=moderate_text(text="法轮功", user=user, subject="description").case_id)
    missing = client.post(f"/moderation/cases/{case.id}/reject", {}, format="json")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "reason_required"
    assert decided == []
    response = client.post(f"/moderation/cases/{case.id}/reject", {"reason": "banned topic"}, format="json")
    assert response.json()["state"] == "rejected"
    assert decided == [(case.id, "rejected")]
    case.refresh_from_db()
    assert (case.decided_by, case.reason) == (moderator, "banned topic")
    assert client.post("/moderation/cases/999999/approve").status_code == 404


def test_a_failing_receiver_rolls_the_decision_back():
    client, _ = client_for(staff=True)
    case = held_case()

    def broken(sender, case, **kwargs):
        raise RuntimeError("storage down")

    case_decided.connect(broken)
    try:
        failed = client.post(f"/moderation/cases/{case.id}/reject", {"reason": "no"}, format="json")
        assert failed.status_code == 500
    finally:
        case_decided.disconnect(broken)
    case.refresh_from_db()
    assert case.state == "pending"
    assert client.post(f"/moderation/cases/{case.id}/reject", {"reason": "no"}, format="json").status_code == 200


def test_django_admin_lists_cases_and_word_lists():
    from django.test import Client

    admin_user = get_user_model().objects.create_superuser(username="root", password="x")
    client = Client()
    client.force_login(admin_user)
    case = held_case()
    for url in ("/admin/moderation/moderationcase/", f"/admin/moderation/moderationcase/{case.id}/change/",
                "/admin/moderation/wordcategory/", "/admin/moderation/sensitiveword/?q=赌博"):
        assert client.get(url).status_code == 200, url
    response = client.post("/admin/moderation/moderationcase/",
                           {"action": "approve", "_selected_action": [case.id]})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.decided_by) == ("approved", admin_user)


def test_a_moderator_logged_in_at_the_admin_uses_the_api_with_csrf():
    from django.test import Client

    get_user_model().objects.create_superuser(username="moderator", password="pw-moderator")
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username="moderator", password="pw-moderator")
    case = held_case()
    assert browser.get("/moderation/cases").json()["count"] == 1  # reading needs no CSRF token

    forged = browser.post(f"/moderation/cases/{case.id}/approve", {"reason": "ok"},
                          content_type="application/json")
    assert forged.status_code == 403 and "CSRF" in forged.json()["error"]["message"]
    browser.get("/admin/")  # the admin page sets the csrftoken cookie, as in a real browser
    token = browser.cookies["csrftoken"].value
    approved = browser.post(f"/moderation/cases/{case.id}/approve", {"reason": "ok"},
                            content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert approved.status_code == 200, approved.content
    assert approved.json()["decided_by"] == "moderator"


def test_a_session_that_is_not_staff_gets_403():
    from django.test import Client

    get_user_model().objects.create_user(username="visitor", password="pw-visitor")
    browser = Client()
    assert browser.login(username="visitor", password="pw-visitor")
    response = browser.get("/moderation/cases")
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


def test_decisions_refuse_unknown_fields():
    client, _ = client_for(staff=True)
    case = held_case()
    response = client.post(f"/moderation/cases/{case.id}/approve", {"reson": "typo"},
                           format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "unknown_field",
        "message": "Unknown field 'reson'; the request accepts: reason."}
