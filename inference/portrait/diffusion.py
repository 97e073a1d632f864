"""``render``: a portrait on the diffusion path, EasyPhoto's method around our fusion.

Per template face, in a crop around it (``crop_face_preprocess``): the user's face fused in
(``apply_face_fusion_before``); the face redrawn by Stable Diffusion img2img with the person's
LoRA (``lora_weights``, ``first_diffusion_steps``, ``first_denoising_strength``) and its skin
brought to the template's colours (``color_shift_middle``); the user's face fused in again over
the drawing, its colours measured in the template (``apply_face_fusion_after``); the seam along
the face's outline redrawn (``second_*``) and the skin's tone set back (``color_shift_last``).
``lcm_accelerate`` samples with LCM. Then what every portrait gets (``fusion.finish``).

A redrawing can lose the face (a model that paints noise, a high strength without the second
fusion), so the picture is checked before it is returned: each face must be found where the
template has it, within ``SAME_PERSON_DISTANCE`` of its identity and nearer to it than to the
template's person. Otherwise ``portrait_check_failed``, and no picture."""
from __future__ import annotations

import secrets
from contextlib import nullcontext
from typing import Any, Mapping, Sequence

import cv2
import numpy as np

from inference.diffusion.img2img import DEFAULT_STEPS, DiffusionResult, img2img
from inference.diffusion.loading import SDPipelineHandle
from inference.errors import InferenceError
from inference.faces import SAME_PERSON_DISTANCE, Face
from inference.portrait.blend import match_colour, over
from inference.portrait.configure import PortraitConfigure, parse_configure
from inference.portrait.fusion import (ENGINE, Laps, PortraitResult, finish, fuse_face,
                                       not_applied, restore_skin_tone, template_faces, work_box)
from inference.portrait.identity import Identity
from inference.portrait.lora import TRIGGER, lora_digest, lora_header, lora_state_dict
from inference.portrait.masks import face_outline, face_unit, feathered, polygon_mask, skin_mask
from inference.progress import Progress, scaled, silent

PATH = "diffusion"
PROMPT = f"photo of {TRIGGER} person, portrait, detailed face, high quality, sharp focus"
NEGATIVE_PROMPT = ("lowres, blurry, deformed face, extra eyes, extra mouth, distorted, "
                   "bad anatomy, watermark, text, nsfw")
CHECK_FAILED = "portrait_check_failed"
# The fields this path applies that the fusion alone cannot.
DIFFUSION_FIELDS = ("lora_weights", "first_diffusion_steps", "first_denoising_strength",
                    "second_diffusion_steps", "second_denoising_strength", "lcm_accelerate")
# The second pass redraws this many face units either side of the face's outline.
_EDGE = 0.08
# Colour matching after the first pass fades in over this many face units inside the outline.
_FEATHER = 0.15


def diffusion_not_applied(settings: PortraitConfigure) -> dict[str, str]:
    """What the diffusion path still cannot do (face restoration, IP-Adapter), and why."""
    skipped = {name: why for name, why in not_applied(settings).items()
               if name not in DIFFUSION_FIELDS}
    if settings.ipa_control:
        skipped["ipa_control"] = skipped["ipa_weight"] = (
            "no IP-Adapter image encoder and weights are installed beside the Stable Diffusion "
            "model")
    return skipped


def render(template_rgb: np.ndarray, identities: Sequence[Identity],
           loras: Sequence[bytes | None],
           configure: Mapping[str, Any] | PortraitConfigure | None = None, *,
           handle: SDPipelineHandle, seed: int | None = None,
           progress: Progress = silent) -> PortraitResult:
    """The template with each face, left to right, redrawn as the matching identity, whose LoRA
    file (``train_lora``'s bytes; None: the identity has none) the same place in ``loras``
    holds. Raises ``portrait_check_failed`` rather than return a picture without the faces."""
    settings = parse_configure(configure)
    if len(loras) != len(identities):
        raise ValueError("give one LoRA (or None) per identity")
    clock = Laps()
    rgb, faces = template_faces(template_rgb, identities)
    clock.lap("faces")
    progress("faces", 0.05)
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    scheduler = "lcm" if settings.lcm_accelerate else "default"
    skipped = diffusion_not_applied(settings)

    image, passes, used = rgb.copy(), [], []
    for n, (face, identity, lora) in enumerate(zip(faces, identities, loras)):
        state, name, note = _person_lora(lora)
        used.append(note)
        if state is None:
            skipped["lora_weights"] = note["not_used"]
        adapters = {name: settings.lora_weights} if state is not None else None
        with handle.call_lora(state, name) if state is not None else nullcontext():
            image, done = _render_face(
                image, rgb, face, identity, settings, handle, adapters=adapters,
                scheduler=scheduler, seed=seed + 2 * n,
                progress=scaled(progress, 0.05 + 0.8 * n / len(faces),
                                0.05 + 0.8 * (n + 1) / len(faces)))
        passes += [{"face": n, **entry} for entry in done]
    clock.lap("diffusion")

    engine = "+".join([handle.engine_for(scheduler), *_lora_names(used), ENGINE])
    details = {"diffusion": {
        "checkpoint": handle.engine_for(scheduler), "scheduler": scheduler, "seed": seed,
        "prompt": PROMPT, "negative_prompt": NEGATIVE_PROMPT, "device": handle.device,
        "loras": used, "passes": passes,
        **({"lcm_lora": handle.lcm_lora_note} if scheduler == "lcm" and handle.lcm_lora_note
           else {})}}
    return finish(rgb, image, faces, identities, settings, clock=clock, path=PATH, engine=engine,
                  skipped=skipped, verify=lambda report: verify_faces(report, engine),
                  details=details, progress=progress)


def verify_faces(report: list[dict], engine: str) -> None:
    """Refuse a portrait whose faces (``face_report``'s entries, left to right) are not there
    or not the people asked for: ``portrait_check_failed``, saying which face and why."""
    problems = []
    for n, face in enumerate(report, 1):
        distance, to_template = face["distance"], face["distance_to_template"]
        if distance is None:
            problems.append(f"face {n} from the left was lost (no face where the template "
                            "has one)")
        elif distance > SAME_PERSON_DISTANCE or distance >= to_template:
            problems.append(f"face {n} from the left is not the person asked for (distance "
                            f"{distance:.2f} to them, {to_template:.2f} to the template's)")
    if problems:
        raise InferenceError(
            f"The portrait failed its check: {'; '.join(problems)}. {engine} redrew it; nothing "
            "was kept. Try again with apply_face_fusion_after on, a lower "
            "first_denoising_strength, or another template.", code=CHECK_FAILED)


def _lora_names(used: list[dict]) -> list[str]:
    """The LoRAs for the engine string: each by its hash, or their count past two (the
    metadata lists them all; the engine string stays short enough to store)."""
    digests = list(dict.fromkeys(note["digest"] for note in used if "digest" in note))
    return [f"lora:{d}" for d in digests] if len(digests) <= 2 else [f"loras:{len(digests)}"]


def _person_lora(data: bytes | None) -> tuple[dict | None, str | None, dict]:
    """The LoRA's tensors, its adapter name, and what the result says about it."""
    if data is None:
        return None, None, {"not_used": "this identity has no LoRA (it was learnt without "
                                         "Stable Diffusion): train it again to draw with one"}
    header, digest = lora_header(data), lora_digest(data)
    note = {"digest": digest, "trained_on": header.get("mx_base"),
            "steps": int(header.get("mx_steps") or 0) or None}
    return lora_state_dict(data), f"person_{digest}", note


def _render_face(image: np.ndarray, template: np.ndarray, face: Face, identity: Identity,
                 settings: PortraitConfigure, handle: SDPipelineHandle, *,
                 adapters: dict[str, float] | None, scheduler: str, seed: int,
                 progress: Progress) -> tuple[np.ndarray, list[dict]]:
    """``image`` with ``face`` redrawn as ``identity`` (``template``: the original, for its
    colours), and what each diffusion pass did."""
    if settings.apply_face_fusion_before:
        image = fuse_face(image, face, identity, settings)
    unit = face_unit(face.landmarks)
    x0, y0, x1, y1 = work_box(face.landmarks, image.shape[:2], unit,
                              settings.crop_face_preprocess)
    points = face.landmarks.astype(np.float64) - (x0, y0)
    original = template[y0:y1, x0:x1]
    size = original.shape[:2]
    face_mask = polygon_mask(size, [face_outline(points, forehead=0.3)])
    skin = skin_mask(size, points)
    edge = max(1, round(_EDGE * unit))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * edge + 1,) * 2)
    seam = cv2.subtract(cv2.dilate(face_mask, kernel), cv2.erode(face_mask, kernel))
    passes = []

    crop = image[y0:y1, x0:x1].copy()
    first = _redraw(handle, crop, face_mask, settings.first_denoising_strength,
                    settings.first_diffusion_steps, adapters=adapters, scheduler=scheduler,
                    seed=seed, progress=scaled(progress, 0.0, 0.45))
    passes.append(_pass("first", first, settings.first_denoising_strength))
    if first is not None:
        crop = first.image
        if settings.color_shift_middle:
            matched = match_colour(crop, skin, original, skin)
            crop = over(matched, crop, feathered(face_mask, _FEATHER * unit))
    image = image.copy()
    image[y0:y1, x0:x1] = crop
    if settings.apply_face_fusion_after:
        image = fuse_face(image, face, identity, settings, colours_from=template)
    progress("fuse", 0.55)

    crop = image[y0:y1, x0:x1].copy()
    second = _redraw(handle, crop, seam, settings.second_denoising_strength,
                     settings.second_diffusion_steps, adapters=adapters, scheduler=scheduler,
                     seed=seed + 1, progress=scaled(progress, 0.55, 1.0))
    passes.append(_pass("second", second, settings.second_denoising_strength))
    if second is not None:
        crop = second.image
    if settings.color_shift_last:
        crop = restore_skin_tone(crop, original, skin, skin, face_mask, unit)
    image[y0:y1, x0:x1] = crop
    return image, passes


def _redraw(handle: SDPipelineHandle, crop: np.ndarray, region: np.ndarray, strength: float,
            steps: int, *, adapters, scheduler: str, seed: int,
            progress: Progress) -> DiffusionResult | None:
    """img2img of ``crop`` inside ``region`` (uint8 mask); None at strength 0 (nothing to do)."""
    if strength <= 0 or not region.any():
        return None
    return img2img(handle, crop, prompt=PROMPT, negative_prompt=NEGATIVE_PROMPT,
                   keep_mask=(region <= 127).astype(np.float32), strength=strength,
                   steps=DEFAULT_STEPS["lcm"] if scheduler == "lcm" else steps,
                   scheduler=scheduler, seed=seed, adapters=adapters, progress=progress)


def _pass(name: str, result: DiffusionResult | None, strength: float) -> dict:
    if result is None:
        return {"pass": name, "strength": strength, "skipped": "strength 0: nothing redrawn"}
    meta = result.as_metadata()
    return {"pass": name, "strength": strength, "steps": meta["steps"],
            "steps_run": meta["steps_run"], "size": meta["size"],
            "seconds": meta["timings"]["total_s"]}
