"""What a process that died left the bot owing, finished by whichever process starts next: a
web process (its sender), the embedded worker, or a Celery worker; and again with every sweep.

Safe to run anywhere at once: a delivery is claimed by one atomic update, so it goes out once
however many processes try; unfinished deletions are taken by one process at a time."""
from __future__ import annotations

from backend.mpbot.delivery import deliveries_prune, deliveries_send_due
from backend.mpbot.followers import followers_forget_pending
from backend.mpbot.inbound import configured


def bot_recover() -> None:
    """Send the deliveries that are due (claims of a dead process included), then delete the
    data of followers whose unsubscribe could not be finished; nothing while the bot is off."""
    if not configured():
        return
    deliveries_send_due()
    followers_forget_pending()
    deliveries_prune()
