"""Every generation mode the service offers; importing this package registers them."""
from backend.jobs.modes import anime, portrait, sticker, talking, voice  # noqa: F401
