"""Moderation: screens every upload, text and result, and keeps the admins' review queue."""
