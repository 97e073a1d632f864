"""Talking avatar: a face says a line (espeak-ng or the user's recording), lip-synced, blinking
and swaying, rendered by a landmark mesh warp fast enough for a CPU, encoded as an MP4."""
from inference.talking.emotions import known_emotions
from inference.talking.pipeline import TalkingResult, make_talking_clip

__all__ = ["TalkingResult", "known_emotions", "make_talking_clip"]
