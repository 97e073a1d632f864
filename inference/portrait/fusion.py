"""``fuse``: an AI portrait (AI写真) from a template photo and the identities of the people to
put in it, one per face of the template, left to right.

Each template face gets the user's best aligned face, warped onto a shape between the
template's and the user's (``more_like_me``), colour-matched, Poisson-cloned and feathered in
(see ``blend``), then retouched as ``configure`` asks. PAI's options that need a Stable
Diffusion stage, a LoRA or a restoration model are not imitated: the result lists them under
``not_applied`` with the reason. With Stable Diffusion weights, ``diffusion.render`` applies
them around the same fusion."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from inference.errors import InferenceError
from inference.faces import Face, descriptor_distance, detect_faces, face_descriptor
from inference.faces.detect import checked_rgb
from inference.faces import regions
from inference.portrait.blend import (match_colour, match_local_colour, over, poisson_clone,
                                      sharpen, shift_lab)
from inference.portrait.configure import PortraitConfigure, parse_configure
from inference.portrait.identity import Identity
from inference.portrait.masks import (face_outline, face_unit, feathered, lab, polygon_mask,
                                      skin_mask)
from inference.portrait.retouch import harmonise_body, retouch_skin, transfer_makeup
from inference.portrait.warp import apply_affine, similarity_transform, target_shape, warp_face
from inference.progress import Progress, silent
from inference.working_size import fit_within

ENGINE = "portrait-fusion-v1"
PATH = "landmark-warp"
WORKING_SIDE = 2048
# PAI's words for a template without a face, and for a count that does not match.
TEMPLATE_NO_FACE = "There is not face in template. Please Give a new template."
FACE_COUNT_MISMATCH = (
    "Please confirm if the number of faces in the template corresponds to the user ID.")
# The crop a face is fused in reaches this many face units beyond its landmarks.
_CROP_MARGIN = 1.2
# The warp's displacement is blurred over this many face units (no creases on the cheeks).
_SMOOTH = 0.03
# Colour matching follows the template's light over this many face units.
_LIGHT = 0.3
# The final blend's feather, in face units: wide enough to hide the mask, inside the clone.
_FEATHER = 0.15
_DIFFUSION = "no Stable Diffusion model is configured (SD_MODEL_DIR): the face is fused by " \
             "landmark warping and Poisson blending"


@dataclass
class PortraitResult:
    image: np.ndarray  # RGB uint8, the template's size (or WORKING_SIDE at most)
    engine: str
    path: str
    faces: list[dict]  # per template face, left to right: box, distances, similarity
    not_applied: dict[str, str]  # configure field -> why it had no effect
    configure: PortraitConfigure
    timings: dict[str, float] = field(default_factory=dict)
    # What a path adds about how it was made (the diffusion passes, the LoRAs used).
    details: dict[str, Any] = field(default_factory=dict)

    def as_metadata(self) -> dict:
        return {
            "engine": self.engine,
            "path": self.path,
            "faces": self.faces,
            "not_applied": self.not_applied,
            "configure": self.configure.as_dict(),
            "timings": {stage: round(seconds, 4) for stage, seconds in self.timings.items()},
            **self.details,
        }


def not_applied(configure: PortraitConfigure) -> dict[str, str]:
    """The fields whose value asks for something this engine cannot do, and why."""
    skipped = {
        "lora_weights": "no LoRA is trained without a Stable Diffusion model (SD_MODEL_DIR): "
                        "the identity is the person's aligned faces and descriptor",
        "first_diffusion_steps": _DIFFUSION,
        "first_denoising_strength": _DIFFUSION,
        "second_diffusion_steps": _DIFFUSION,
        "second_denoising_strength": _DIFFUSION,
    }
    if configure.photo_enhancement_bool:
        skipped["photo_enhancement_method"] = (
            "no face restoration model (photo_fix) is installed"
            if configure.photo_enhancement_method == "photo_fix"
            else "no super-resolution model is installed")
    if configure.ipa_control:
        skipped["ipa_control"] = skipped["ipa_weight"] = "IP-Adapter control needs the " \
            "Stable Diffusion stage, which is not installed"
    if configure.lcm_accelerate:
        skipped["lcm_accelerate"] = ("LCM speeds up the Stable Diffusion stage, which is not "
                                     "installed")
    return skipped


def fuse(template_rgb: np.ndarray, identities: Sequence[Identity],
         configure: Mapping[str, Any] | PortraitConfigure | None = None, *,
         progress: Progress = silent) -> PortraitResult:
    """The template with each face, left to right, replaced by the matching identity's."""
    settings = parse_configure(configure)
    clock = Laps()
    rgb, faces = template_faces(template_rgb, identities)
    clock.lap("faces")
    progress("faces", 0.1)

    image = rgb.copy()
    if settings.apply_face_fusion_before or settings.apply_face_fusion_after:
        for n, (face, identity) in enumerate(zip(faces, identities)):
            image = fuse_face(image, face, identity, settings)
            progress("fuse", 0.1 + 0.6 * (n + 1) / len(faces))
    clock.lap("fuse")
    return finish(rgb, image, faces, identities, settings, clock=clock, path=PATH,
                  engine=ENGINE, skipped=not_applied(settings), progress=progress)


def finish(template: np.ndarray, image: np.ndarray, faces: list[Face],
           identities: Sequence[Identity], settings: PortraitConfigure, *, clock: "Laps",
           path: str, engine: str, skipped: dict[str, str],
           verify: Callable[[list[dict]], None] | None = None, details: dict | None = None,
           progress: Progress = silent) -> PortraitResult:
    """The steps after the faces are in, on either path: ``sharp_ratio``, each face measured
    against its identity and the template (``verify`` may refuse the picture then), and the
    anime style."""
    image = sharpen(image, settings.sharp_ratio)
    clock.lap("sharpen")
    report = face_report(template, image, faces, identities)
    clock.lap("similarity")
    progress("similarity", 0.9)
    if verify is not None:
        verify(report)
    if settings.style_name == "Anime":
        from inference.anime import stylize  # the anime styles load only when asked for

        styled = stylize(image, mode="full")
        image, path = styled.image, f"{path}+anime:{styled.engine}"
        clock.lap("anime")
    progress("done", 1.0)
    timings = dict(clock.timings, total=sum(clock.timings.values()))
    return PortraitResult(image=image, engine=engine, path=path, faces=report,
                          not_applied=skipped, configure=settings, timings=timings,
                          details=details or {})


def template_faces(template_rgb: np.ndarray,
                   identities: Sequence[Identity]) -> tuple[np.ndarray, list[Face]]:
    """The template at its working size and its faces, left to right, one per identity."""
    if not all(isinstance(identity, Identity) for identity in identities):
        raise InferenceError("identities must be Identity objects (Identity.from_bytes reads a "
                             "stored one).", code="bad_identity")
    rgb = fit_within(checked_rgb(template_rgb), WORKING_SIDE)
    faces = sorted(detect_faces(rgb), key=lambda face: face.box[0])
    if not faces:
        raise InferenceError(TEMPLATE_NO_FACE, code="template_no_face")
    if len(faces) != len(identities):
        raise InferenceError(
            f"{FACE_COUNT_MISMATCH} The template has {_count(len(faces), 'face')} and "
            f"{_count(len(identities), 'identity', 'identities')} were given: give one "
            "identity per face, left to right, or choose another template.",
            code="face_count_mismatch")
    return rgb, faces


def fuse_face(image: np.ndarray, face: Face, identity: Identity,
              settings: PortraitConfigure, *, colours_from: np.ndarray | None = None) -> np.ndarray:
    """``image`` with ``face`` replaced by ``identity``'s best aligned face. The template's
    colours (skin, light, make-up) are measured in ``colours_from`` (default: ``image``), an
    image of the same size: the original template when ``image`` was redrawn."""
    unit = face_unit(face.landmarks)
    x0, y0, x1, y1 = work_box(face.landmarks, image.shape[:2], unit, settings.crop_face_preprocess)
    template = image[y0:y1, x0:x1]
    reference = template if colours_from is None else colours_from[y0:y1, x0:x1]
    size = template.shape[:2]
    template_points = face.landmarks.astype(np.float64) - (x0, y0)

    source, source_points = identity.faces[0], identity.face_landmarks[0]
    placed = similarity_transform(source_points[regions.STABLE], template_points[regions.STABLE])
    target = target_shape(template_points, apply_affine(placed, source_points),
                          more_like_me=settings.more_like_me,
                          keep_user_jaw=settings.face_shape_match)
    warped = warp_face(source, source_points, target, size, smooth=_SMOOTH * unit)

    mask = polygon_mask(size, [face_outline(target, forehead=0.3)])
    mask[:2], mask[-2:], mask[:, :2], mask[:, -2:] = 0, 0, 0, 0  # seamlessClone's condition
    template_skin, target_skin = skin_mask(size, template_points), skin_mask(size, target)
    if settings.color_shift_middle:
        warped = match_colour(warped, target_skin, reference, template_skin)
        warped = match_local_colour(warped, target_skin, reference, template_skin, _LIGHT * unit)
    else:
        # Unmatched colours would show along the feather: the Poisson solve carries the
        # template's colours in from the mask's edge instead. With matched colours it is left
        # out, since the edge also crosses hair, ears and the collar, whose colours it would
        # carry into the face as a grey or brown cast (seen on the fixtures).
        warped = poisson_clone(warped, template, mask)
    fused = over(warped, template, feathered(mask, _FEATHER * unit))
    if settings.color_shift_last:
        # Whatever moved the skin's mean (the spread limits, the clone's edge colours), it is
        # set back to the template's, fading out towards the edge.
        fused = restore_skin_tone(fused, reference, template_skin, target_skin, mask, unit)
    if settings.skin_retouching_bool:
        fused = retouch_skin(fused, target, unit)
    if settings.makeup_transfer:
        fused = transfer_makeup(fused, target, reference, template_points,
                                settings.makeup_transfer_ratio)
    if settings.background_restore:
        fused = harmonise_body(fused, reference, template_points, target, mask, unit)
    out = image.copy()
    out[y0:y1, x0:x1] = fused
    return out


def restore_skin_tone(image: np.ndarray, reference: np.ndarray, reference_skin: np.ndarray,
                      skin: np.ndarray, mask: np.ndarray, unit: float) -> np.ndarray:
    """``image`` with the mean Lab colour of its ``skin`` set to ``reference``'s under
    ``reference_skin``, fully inside ``mask`` and fading out towards its edge."""
    if not skin.any() or not reference_skin.any():
        return image
    delta = (lab(reference)[reference_skin > 127].mean(axis=0)
             - lab(image)[skin > 127].mean(axis=0))
    return shift_lab(image, delta, feathered(mask, 2 * _FEATHER * unit))


def work_box(landmarks: np.ndarray, shape: tuple[int, int], unit: float,
              crop: bool) -> tuple[int, int, int, int]:
    height, width = shape
    if not crop:
        return 0, 0, width, height
    margin = _CROP_MARGIN * unit
    left, top = np.floor(landmarks.min(axis=0) - margin).astype(int)
    right, bottom = np.ceil(landmarks.max(axis=0) + margin).astype(int)
    return max(left, 0), max(top - round(margin), 0), min(right, width), min(bottom, height)


def face_report(template: np.ndarray, result: np.ndarray, faces: list[Face],
                identities: Sequence[Identity]) -> list[dict]:
    """Per template face: the dlib distance from the fused face to the identity and to the
    template's own face, and ``similarity`` = 1 - the first (0 when not found)."""
    found = detect_faces(result)
    report = []
    for face, identity in zip(faces, identities):
        entry = {"box": [int(v) for v in face.box], "distance": None, "distance_to_template": None,
                 "similarity": 0.0}
        match = _nearest(face, found)
        if match is not None:
            descriptor = face_descriptor(result, match)
            distance = descriptor_distance(descriptor, identity.descriptor)
            entry.update(
                distance=round(distance, 4),
                distance_to_template=round(
                    descriptor_distance(descriptor, face_descriptor(template, face)), 4),
                similarity=round(max(0.0, 1.0 - distance), 4),
            )
        report.append(entry)
    return report


def _nearest(face: Face, found: list[Face]) -> Face | None:
    centre = face.landmarks.mean(axis=0)
    best = min(found, key=lambda f: np.linalg.norm(f.landmarks.mean(axis=0) - centre), default=None)
    if best is None or np.linalg.norm(best.landmarks.mean(axis=0) - centre) > 0.5 * face.width:
        return None
    return best


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


class Laps:
    """Seconds per stage: each ``lap`` closes the stage that began at the previous one."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = now - self._last
        self._last = now
