"""Every generation mode the service offers; importing this package registers them."""
from backend.jobs.modes import anime, sticker, voice  # noqa: F401
