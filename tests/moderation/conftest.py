"""Fixtures for the moderation tests."""
import pytest

from moderation.signals import case_decided


@pytest.fixture
def decided():
    """Every case_decided the test causes, as (case id, state)."""
    seen = []

    def receiver(sender, case, **kwargs):
        seen.append((case.id, case.state))

    case_decided.connect(receiver)
    yield seen
    case_decided.disconnect(receiver)


def preview_status(client, url: str) -> int:
    """Fetch a case's preview as a moderator's browser would: from us (local storage) or S3."""
    if url.startswith("http://testserver/"):
        return client.get(url).status_code
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
