"""Stickers (表情包): a selfie and a few words become a 240x240 sticker of that person
making the expression the words ask for, with a caption, and optionally animated."""
from inference.sticker.lexicon import Expression, ExpressionParams, parse_expression

__all__ = ["Expression", "ExpressionParams", "parse_expression"]
