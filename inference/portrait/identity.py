"""``learn_identity``: what a portrait needs to know about a person, learnt from their checked
photos: the mean dlib descriptor, the best frontal faces aligned, the mean face shape and the
skin tone. It is stored as bytes (an npz file) between training and making portraits."""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import numpy as np

from inference.errors import InferenceError
from inference.faces import align_face
from inference.portrait.check import CheckResult, check_photos
from inference.portrait.masks import lab, skin_mask

FACE_SIZE = 512
KEPT_FACES = 3  # the faces a portrait may be made from, best first
VERSION = 1


@dataclass(frozen=True)
class Identity:
    descriptor: np.ndarray  # (128,) float32: the mean of the photos' dlib descriptors
    faces: np.ndarray  # (k, FACE_SIZE, FACE_SIZE, 3) uint8: aligned faces, most frontal first
    face_landmarks: np.ndarray  # (k, 68, 2) float32: each face's landmarks in its square
    mean_landmarks: np.ndarray  # (68, 2) float32: all photos' aligned landmarks / FACE_SIZE
    skin_lab: np.ndarray  # (3,) float32: CIE L*a*b* mean of the skin (L 0..100)
    photos: int  # how many photos it was learnt from

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer, version=np.int32(VERSION), descriptor=self.descriptor, faces=self.faces,
            face_landmarks=self.face_landmarks, mean_landmarks=self.mean_landmarks,
            skin_lab=self.skin_lab, photos=np.int32(self.photos),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Identity":
        """An identity stored by ``to_bytes``; anything else is a ``bad_identity`` error."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            raise InferenceError(f"The identity file is not readable: {error}.",
                                 code="bad_identity") from error
        if int(arrays.get("version", -1)) != VERSION:
            raise InferenceError(
                f"The identity file has version {arrays.get('version')}, not {VERSION}: learn "
                "the identity again from its photos.", code="bad_identity")
        try:
            identity = cls(
                descriptor=arrays["descriptor"].astype(np.float32),
                faces=arrays["faces"].astype(np.uint8),
                face_landmarks=arrays["face_landmarks"].astype(np.float32),
                mean_landmarks=arrays["mean_landmarks"].astype(np.float32),
                skin_lab=arrays["skin_lab"].astype(np.float32),
                photos=int(arrays["photos"]),
            )
        except KeyError as error:
            raise InferenceError(f"The identity file lacks {error.args[0]!r}.",
                                 code="bad_identity") from error
        k = identity.faces.shape[0]
        if (identity.descriptor.shape != (128,) or k < 1
                or identity.faces.shape[1:] != (FACE_SIZE, FACE_SIZE, 3)
                or identity.face_landmarks.shape != (k, 68, 2)
                or identity.mean_landmarks.shape != (68, 2) or identity.skin_lab.shape != (3,)):
            raise InferenceError("The identity file's arrays have the wrong shapes.",
                                 code="bad_identity")
        return identity


def learn_identity(images: list[np.ndarray | None], *,
                   checks: list[CheckResult] | None = None) -> Identity:
    """The identity of the person in ``images`` (RGB uint8), from the photos that pass
    ``check_photos`` (pass ``checks`` when they were checked already)."""
    if checks is None:
        checks = check_photos(images)
    passed = [check for check in checks if check.ok]
    if not passed:
        codes = ", ".join(f"{c.code} {c.message}" for c in checks) or "no photos"
        raise InferenceError(
            f"No photo passed the check ({codes}): send 5 to 20 photos of one person, each "
            "with one face, larger than 512x512.", code="no_usable_photo")
    aligned, landmarks = [], []
    for check in passed:
        face = align_face(check.rgb, check.face, size=FACE_SIZE)
        aligned.append(face.image)
        landmarks.append(face.to_aligned(check.face.landmarks))
    # Most frontal first; sharpness and size break ties between equally frontal photos.
    order = sorted(range(len(passed)), reverse=True,
                   key=lambda i: (passed[i].face.frontal_score
                                  * (0.5 + passed[i].face.quality_score)))
    kept = order[:KEPT_FACES]
    skin = [lab(aligned[i])[skin_mask(aligned[i].shape[:2], landmarks[i]) > 127] for i in kept]
    return Identity(
        descriptor=np.mean([c.descriptor for c in passed], axis=0).astype(np.float32),
        faces=np.stack([aligned[i] for i in kept]),
        face_landmarks=np.stack([landmarks[i] for i in kept]).astype(np.float32),
        mean_landmarks=(np.mean(landmarks, axis=0) / FACE_SIZE).astype(np.float32),
        skin_lab=np.concatenate(skin).mean(axis=0).astype(np.float32),
        photos=len(passed),
    )
