"""The signals the backend listens to: a case was opened for a person, a case got its final
decision."""
from django.dispatch import Signal

# Sent with (sender=ModerationCase, case=case) once a case is approved or rejected, by a
# moderator or by an asynchronous provider's verdict, after the decision is saved. Receivers
# release the held subject (case.state == "approved") or delete it ("rejected").
case_decided = Signal()

# Sent with (sender=ModerationCase, case=case) once a case that waits for a person (state
# "pending") is committed: the moderators' console shows it live.
case_opened = Signal()
