"""AI portraits (AI写真), the inference core: PAI's photo check, an identity learnt from a
person's photos, ``configure`` as PAI defines it, and fusing identities into a template."""
from inference.portrait.check import CheckResult, PhotoChecks, check_photo_bytes, check_photos
from inference.portrait.configure import FIELDS, PortraitConfigure, parse_configure
from inference.portrait.fusion import PortraitResult, fuse
from inference.portrait.identity import Identity, learn_identity

__all__ = ["FIELDS", "CheckResult", "Identity", "PhotoChecks", "PortraitConfigure",
           "PortraitResult", "check_photo_bytes", "check_photos", "fuse", "learn_identity",
           "parse_configure"]
