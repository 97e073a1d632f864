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
