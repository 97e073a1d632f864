"""Voice descriptions (issue #15): a spoken or written sentence, in Chinese or English, becomes
slots, an SD prompt, a question to confirm, and a picture.

    transcribe(audio) → Transcript        speech to text (faster-whisper, int8, local model)
    describe(text) → Description          slots, prompt, negative prompt, question
    Description.illustrate(seed=0)        the embedded illustrator's 768×768 picture
    speak(question, language=...)         the question as WAV bytes (espeak-ng)

Speech recognition is imported only when used: parsing and drawing need no model.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
