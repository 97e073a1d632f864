"""Stickers (表情包): admin-made templates, users' ratings, and the ``sticker`` mode."""
