"""Faces: dlib detection, 68 landmarks, pose and quality scores, descriptors and FFHQ alignment."""
from inference.faces.align import AlignedFace, align_face
from inference.faces.descriptor import SAME_PERSON_DISTANCE, descriptor_distance, face_descriptor
from inference.faces.detect import Face, detect_faces
from inference.faces.models import warm_up

__all__ = [
    "AlignedFace",
    "Face",
    "SAME_PERSON_DISTANCE",
    "align_face",
    "descriptor_distance",
    "detect_faces",
    "face_descriptor",
    "warm_up",
]
