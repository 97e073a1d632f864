"""The signal the backend listens to: a moderation case got its final decision."""
from django.dispatch import Signal

# Sent with (sender=ModerationCase, case=case) once a case is approved or rejected, by a
# moderator or by an asynchronous provider's verdict, after the decision is saved. Receivers
# release the held subject (case.state == "approved") or delete it ("rejected").
case_decided = Signal()
