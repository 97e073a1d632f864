"""Anime styling: the embedded procedural style and AnimeGANv2 checkpoints, in face, avatar and
full-photo modes."""
from inference.anime.stylize import StyleResult, available_styles, stylize

__all__ = ["StyleResult", "available_styles", "stylize"]
