"""Stickers (表情包): a selfie and a few words become a 240x240 sticker of that person
making the expression the words ask for, with a caption, and optionally animated."""
from inference.sticker.caption import CAPTION_MAX_CHARS, caption_fits
from inference.sticker.lexicon import Expression, ExpressionParams, parse_expression
from inference.sticker.pipeline import StickerResult, make_sticker
from inference.sticker.templates import Template, builtin_templates

__all__ = ["CAPTION_MAX_CHARS", "Expression", "ExpressionParams", "StickerResult", "Template",
           "builtin_templates", "caption_fits", "make_sticker", "parse_expression"]
