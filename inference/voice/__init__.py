"""Voice descriptions (issue #15): a spoken or written sentence, in Chinese or English, becomes
slots, an SD prompt, a question to confirm, and a picture.

    transcribe(audio) → Transcript        speech to text (faster-whisper, int8, local model)
    describe(text) → Description          slots, prompt, negative prompt, question
    Description.draw(seed=0)              the picture: SD txt2img with a pipeline folder (and
                                          the AnimeGAN pass with a checkpoint), else the
                                          embedded illustrator's 768×768 one
    speak(question, language=...)         the question as WAV bytes (espeak-ng)

Speech recognition is imported only when used: parsing and drawing need no model.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.progress import Progress, silent

from inference.voice.parse import Item, Slots, parse_description
from inference.voice.prompt import sd_prompt
from inference.voice.question import confirmation_question, speak


@dataclass
class Description:
    text: str
    slots: Slots
    prompt: str
    negative_prompt: str
    question: str

    def illustrate(self, *, seed: int = 0):
        from inference.voice.illustrate import illustrate

        return illustrate(self.slots, seed=seed)

    def draw(self, *, seed: int = 0, sd_model_dir: str | Path | None = None,
             models_dir: str | Path | None = None, anime_style: str = "auto",
             steps: int | None = None, progress: Progress = silent):
        """The picture: Stable Diffusion txt2img from the prompt where ``sd_model_dir`` holds a
        pipeline, then the anime style pass with an AnimeGAN checkpoint from ``models_dir``
        (``anime_style``: auto, none or a checkpoint's name; see ``painted``); else the embedded
        illustrator (768×768). Either result has ``image``, ``engine``, ``seed`` and
        ``as_metadata()``."""
        from inference.diffusion import load_sd_pipeline, sd_available

        if not sd_available(sd_model_dir):
            progress("illustrate", 0.0)
            picture = self.illustrate(seed=seed)
            progress("illustrate", 1.0)
            return picture
        from inference.voice.painted import paint

        return paint(load_sd_pipeline(sd_model_dir), slots=self.slots, prompt=self.prompt,
                     negative_prompt=self.negative_prompt, seed=seed, models_dir=models_dir,
                     anime_style=anime_style, steps=steps, progress=progress)

    def as_metadata(self) -> dict[str, Any]:
        return {"text": self.text, "slots": self.slots.as_dict(), "prompt": self.prompt,
                "negative_prompt": self.negative_prompt, "question": self.question,
                "unknown": list(self.slots.unknown)}


def describe(text: str) -> Description:
    """Everything the words say, ready to confirm and draw."""
    slots = parse_description(text)
    prompt, negative = sd_prompt(slots)
    return Description(text=text, slots=slots, prompt=prompt, negative_prompt=negative,
                       question=confirmation_question(slots))


__all__ = ["Description", "Item", "Slots", "describe", "parse_description", "speak"]
