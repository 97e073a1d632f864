"""Speech in, speech out: English spoken offline by espeak-ng is transcribed by the local
Whisper model and parsed; the question is spoken back in Mandarin or English. The model folder
is the one scripts/setup assembles (var/models/whisper-base, or $WHISPER_MODEL_DIR)."""
from __future__ import annotations

import io
import subprocess
import wave

import numpy as np
import pytest

from inference.config import whisper_model_dir
from inference.errors import InferenceError, ModelLoadError
from inference.sticker.lexicon import normalize_text
from inference.voice import describe
from inference.voice.model_files import (MODEL_BIN_SHA256, assemble_model_dir, check_model_dir,
                                          sha256_of)
from inference.voice.question import speak
from inference.voice.transcribe import SAMPLE_RATE, read_audio, transcribe


def spoken(text: str, voice: str = "en-us") -> bytes:
    return subprocess.run(["espeak-ng", "-v", voice, "-s", "140", "--stdout", text],
                          check=True, capture_output=True).stdout


@pytest.mark.parametrize("sentence, hair, accessory, scene", [
    ("a girl with blue hair and glasses on the beach", "blue", "glasses", "beach"),
    ("a boy with red hair wearing headphones in the snow", "red", "headphones", "snow"),
])
def test_english_speech_becomes_the_slots_it_describes(sentence, hair, accessory, scene):
    transcript = transcribe(spoken(sentence), language="auto")
    assert transcript.language == "en" and transcript.engine.endswith("@int8")
    slots = describe(transcript.text).slots
    assert slots.hair_colour == hair
    assert accessory in [item.kind for item in slots.accessories]
    assert slots.scene == scene


def test_a_spoken_question_is_a_wav_whisper_can_read_back():
    question = describe("a girl with green hair in the forest").question
    audio = speak(question, language="en")
    with wave.open(io.BytesIO(audio)) as wav:  # a header that tells the true length
        assert wav.getnchannels() == 1 and 1.5 < wav.getnframes() / wav.getframerate() < 30
    heard = transcribe(audio, language="en").text.lower()
    assert "green hair" in heard and "forest" in heard


def test_mandarin_is_spoken_through_pinyin():
    question = describe("一个戴眼镜的黑发男孩在樱花树下看书").question
    audio = read_audio(speak(question, language="zh"))
    # About four syllables a second: a voice reading 24 characters, not spelling out symbols.
    assert 3.0 < len(audio) / SAMPLE_RATE < 15.0
    assert np.abs(audio).max() > 0.1


def test_chinese_speech_comes_back_as_simplified_chinese():
    transcript = transcribe(speak("一个戴眼镜的黑发男孩在海边", language="zh"), language="zh")
    assert transcript.language == "zh"
    assert sum("\u4e00" <= char <= "\u9fff" for char in transcript.text) >= 5
    assert transcript.text == normalize_text(transcript.text).replace(" ", "")


def test_unreadable_audio_and_unknown_languages_are_refused_with_a_code():
    with pytest.raises(InferenceError) as error:
        transcribe(b"not audio at all", language="en")
    assert error.value.code == "audio_unreadable"
    with pytest.raises(InferenceError) as error:
        transcribe(np.zeros(SAMPLE_RATE, np.float32), language="fr")
    assert error.value.code == "bad_language"


def test_the_model_folder_is_checked_before_loading(tmp_path):
    with pytest.raises(ModelLoadError) as error:
        check_model_dir(tmp_path)
    assert error.value.code == "asr_model_missing" and "scripts/whisper-model" in str(error.value)
    with pytest.raises(ModelLoadError):
        transcribe(np.zeros(SAMPLE_RATE, np.float32), model_dir=tmp_path)


def test_the_assembled_model_matches_the_recorded_hash(tmp_path):
    assert sha256_of([check_model_dir(whisper_model_dir()) / "model.bin"]) == MODEL_BIN_SHA256
    folder = assemble_model_dir(tmp_path / "whisper")
    assert sha256_of([folder / "model.bin"]) == MODEL_BIN_SHA256
    (folder / "model.bin").write_bytes(b"truncated")  # a damaged copy is rebuilt, not trusted
    assemble_model_dir(folder)
    assert sha256_of([folder / "model.bin"]) == MODEL_BIN_SHA256


def test_detection_answers_only_in_chinese_or_english():
    # Whisper base hears espeak-ng's Mandarin as Thai: the words are read again as zh or en.
    transcript = transcribe(speak("一个戴眼镜的黑发男孩在海边", language="zh"), language="auto")
    assert transcript.language in ("zh", "en")
    assert not any("\u0e00" <= char <= "\u0e7f" for char in transcript.text)


def test_a_recording_longer_than_whispers_window_is_heard_to_the_end():
    sentence = read_audio(spoken("a boy with red hair wearing headphones in the snow"))
    long = np.concatenate([sentence, np.zeros(28 * SAMPLE_RATE, np.float32), sentence])
    assert len(long) > 30 * SAMPLE_RATE
    heard = transcribe(long, language="auto").text.lower()
    assert heard.count("headphones") == 2 and heard.count("snow") == 2


def test_a_short_clip_is_encoded_in_a_short_context_unless_told_otherwise(monkeypatch):
    clip = spoken("a girl with blue hair and glasses on the beach")
    short = transcribe(clip, language="en")
    assert short.context == 10.0 and "blue hair" in short.text.lower()
    monkeypatch.setenv("WHISPER_CONTEXT_SECONDS", "30")
    whole = transcribe(clip, language="en")
    assert whole.context == 30.0 and "blue hair" in whole.text.lower()
    padded = np.concatenate([read_audio(clip), np.zeros(12 * SAMPLE_RATE, np.float32)])
    monkeypatch.delenv("WHISPER_CONTEXT_SECONDS")
    assert transcribe(padded, language="en").context > 15.0  # the clip and 2 s to spare


def test_one_model_serves_many_threads_and_hears_what_it_hears_alone(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from inference.voice import transcribe as module

    sentences = ["a girl with blue hair and glasses on the beach",
                 "a boy with red hair wearing headphones in the snow",
                 "a cat sleeping in the forest at night"]
    clips = [read_audio(spoken(sentence)) for sentence in sentences] * 2
    # A thread count no other test uses: a fresh entry, loaded by whichever thread comes first.
    loads = []
    original = module._LoadedWhisper.__init__

    def counted(self, *args, **kwargs):
        loads.append(args)
        original(self, *args, **kwargs)

    monkeypatch.setattr(module._LoadedWhisper, "__init__", counted)
    with ThreadPoolExecutor(max_workers=6) as pool:
        together = list(pool.map(lambda clip: transcribe(clip, language="en", threads=3).text,
                                 clips))
    assert len(loads) == 1  # six threads at once, one model
    alone = [transcribe(clip, language="en", threads=3).text for clip in clips]
    assert together == alone
    assert all("hair" in text.lower() for text in together[:2])


def test_traditional_characters_heard_come_back_simplified(monkeypatch):
    from inference.voice import transcribe as module

    # Whisper writes Traditional Chinese about as often as Simplified.
    monkeypatch.setattr(module, "_run", lambda model, samples, language: (
        "一個戴眼鏡的黑髮男孩在櫻花樹下看書", "zh", 10.0))
    heard = transcribe(np.zeros(SAMPLE_RATE, np.float32), language="zh")
    assert heard.text == "一个戴眼镜的黑发男孩在樱花树下看书"
    assert describe(heard.text).slots.hair_colour == "black"


def test_chinese_loses_the_spaces_between_characters_but_not_between_words(monkeypatch):
    from inference.voice import transcribe as module

    monkeypatch.setattr(module, "_run", lambda model, samples, language: (
        "我 想要 一個 戴 headphones 的 女孩", "zh", 10.0))
    heard = transcribe(np.zeros(SAMPLE_RATE, np.float32), language="zh")
    assert heard.text == "我想要一个戴 headphones 的女孩"


def test_a_decoder_repeating_itself_stops_at_the_clips_length():
    # Whisper base hears this synthetic Mandarin as one character repeated without end; the
    # clip's 3 s allow 16 + 12 × 3 tokens, not Whisper's 224.
    audio = speak("蓝色头发的女孩在海边", language="zh")
    heard = transcribe(audio, language="zh")
    assert len(heard.text) <= 16 + 12 * heard.duration, heard.text
    assert heard.text == normalize_text(heard.text).replace(" ", "")
