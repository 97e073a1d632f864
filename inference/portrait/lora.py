"""``train_lora``: EasyPhoto's way of learning a face for Stable Diffusion. A LoRA (peft, on the
UNet's attention projections) is trained on the person's aligned face crops to draw them when
the prompt names ``TRIGGER``; the result is one .safetensors file in kohya's key layout (what
Automatic1111, ComfyUI and EasyPhoto read, and what diffusers' ``load_lora_weights`` reads).

Only the UNet learns: the VAE and the text encoder are frozen, so each crop's latents and the
prompt's embedding are computed once, before the first step."""
from __future__ import annotations

import hashlib
import json
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from inference.errors import InferenceError, ModelLoadError
from inference.faces import align_face
from inference.portrait.check import CheckResult
from inference.progress import Progress, silent

# The rare word the LoRA binds the face to, and the prompt it is trained and rendered with.
TRIGGER = "mxface"
TRAIN_PROMPT = f"photo of {TRIGGER} person, face, high quality"
TARGET_MODULES = ("to_q", "to_k", "to_v", "to_out.0")
FORMAT = "kohya"
VERSION = "1"


@dataclass
class TrainedLora:
    """A trained LoRA: its weights in kohya's layout, and how it was made."""

    state_dict: dict[str, Any]  # name -> torch tensor (float32, on the CPU)
    base: str  # the engine string of the checkpoint it was trained on ("sd:<folder>@<hash>")
    rank: int
    steps: int
    losses: list[float] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """The .safetensors file; its header's metadata names the base checkpoint and rank.

        safetensors writes metadata in a random order (a Rust hash map), so the same LoRA
        would hash differently each time: the metadata is put into the header here, sorted.
        Tensor offsets count from the header's end, so they stay as they are."""
        from safetensors.torch import save

        raw = save(self.state_dict)
        (length,) = struct.unpack("<Q", raw[:8])
        header = {"__metadata__": dict(sorted(self.header().items())),
                  **json.loads(raw[8:8 + length])}
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)  # the data stays 8-byte aligned
        return struct.pack("<Q", len(text)) + text + raw[8 + length:]

    def header(self) -> dict[str, str]:
        return {"format": "pt", "mx_lora_format": FORMAT, "mx_lora_version": VERSION,
                "mx_base": self.base, "mx_rank": str(self.rank), "mx_steps": str(self.steps),
                "mx_trigger": TRIGGER, "ss_network_dim": str(self.rank),
                "ss_network_alpha": str(self.rank)}

    def as_metadata(self) -> dict:
        return {"format": FORMAT, "base": self.base, "rank": self.rank, "steps": self.steps,
                "trigger": TRIGGER, "loss_first": _round(self.losses[:1]),
                "loss_last": _round(self.losses[-1:]),
                "timings": {k: round(v, 3) for k, v in self.timings.items()}}


def _round(values: list[float]) -> float | None:
    return round(values[0], 5) if values else None


def lora_digest(data: bytes) -> str:
    """A short hash of a LoRA file: which LoRA made a result."""
    return hashlib.sha256(data).hexdigest()[:10]


def lora_header(data: bytes) -> dict[str, str]:
    """The metadata in a .safetensors file's header (``{}`` when it has none); a file that is
    not safetensors is a ``bad_lora`` error."""
    try:
        (length,) = struct.unpack("<Q", data[:8])
        if length > len(data) - 8:
            raise ValueError("header longer than the file")
        header = json.loads(data[8:8 + length])
        return dict(header.get("__metadata__") or {})
    except (struct.error, ValueError, UnicodeDecodeError, AttributeError) as error:
        raise InferenceError(f"The LoRA file is not safetensors ({error}): train the identity "
                             "again.", code="bad_lora") from error


def lora_state_dict(data: bytes) -> dict[str, Any]:
    """The tensors of a .safetensors file (``bad_lora`` when it is not one)."""
    from safetensors.torch import load

    lora_header(data)
    try:
        return load(data)
    except Exception as error:  # safetensors raises its own SafetensorError
        raise InferenceError(f"The LoRA file is not readable: {error}.", code="bad_lora") \
            from error


def training_faces(checks: Sequence[CheckResult], size: int) -> list[np.ndarray]:
    """Each passed photo's face, aligned upright in a ``size`` square (FFHQ framing)."""
    return [align_face(check.rgb, check.face, size=size).image for check in checks if check.ok]


@dataclass(frozen=True)
class TrainingOptions:
    steps: int = 800
    rank: int = 32
    learning_rate: float = 1e-4
    seed: int = 0
    device: str | None = None  # default: cuda when there is one


def train_lora(model_dir: Path | str, faces: Sequence[np.ndarray], *, base: str,
               options: TrainingOptions = TrainingOptions(),
               progress: Progress = silent) -> TrainedLora:
    """A LoRA of the face in ``faces`` (RGB uint8 squares) for the SD1.5 pipeline folder
    ``model_dir`` (whose engine string is ``base``). Progress: stage ``lora``, steps done."""
    unet, losses, timings = train_unet_lora(model_dir, faces, options=options, progress=progress)
    return TrainedLora(state_dict=kohya_state_dict(unet), base=base, rank=options.rank,
                       steps=options.steps, losses=losses, timings=timings)


def train_unet_lora(model_dir: Path | str, faces: Sequence[np.ndarray], *,
                    options: TrainingOptions = TrainingOptions(),
                    progress: Progress = silent) -> tuple[Any, list[float], dict[str, float]]:
    """The training itself: the UNet with its trained LoRA adapter, the loss per step and the
    seconds per stage."""
    import torch
    import torch.nn.functional as F
    from peft import LoraConfig

    if not faces:
        raise InferenceError("No face to learn from: send 5 to 20 photos of one person.",
                             code="no_usable_photo")
    if options.steps < 1 or options.rank < 1:
        raise ValueError("steps and rank must be at least 1")
    started = time.perf_counter()
    device = options.device or ("cuda" if torch.cuda.is_available() else "cpu")
    parts = _load_parts(Path(model_dir), device)
    unet, vae = parts["unet"], parts["vae"]
    loaded = time.perf_counter()

    generator = torch.Generator(device="cpu").manual_seed(options.seed)
    side = unet.config.sample_size * 2 ** (len(vae.config.block_out_channels) - 1)
    with torch.no_grad():
        pixels = _pixels(faces, side).to(device, vae.dtype)
        # Each face and its mirror image: twice the views of the same person.
        pixels = torch.cat([pixels, pixels.flip(-1)])
        latents = vae.encode(pixels).latent_dist.sample(generator.manual_seed(options.seed))
        latents = (latents * vae.config.scaling_factor).float()
        prompt = _encode_prompt(parts["tokenizer"], parts["text_encoder"], device).float()
    encoded = time.perf_counter()

    unet.requires_grad_(False)
    # The adapter's initial weights come from torch's global generator: seeded here, and
    # restored after, so that a seed trains the same LoRA and nobody else's draws change.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(options.seed)
        unet.add_adapter(LoraConfig(r=options.rank, lora_alpha=options.rank,
                                    init_lora_weights="gaussian",
                                    target_modules=list(TARGET_MODULES)))
    trained = [p for p in unet.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trained, lr=options.learning_rate)
    schedule = parts["scheduler"]
    prediction = schedule.config.prediction_type
    unet.train()
    losses = []
    for step in range(options.steps):
        pick = torch.randint(0, len(latents), (1,), generator=generator)
        clean = latents[pick]
        noise = torch.randn(clean.shape, generator=generator).to(device)
        timestep = torch.randint(0, schedule.config.num_train_timesteps, (1,),
                                 generator=generator).to(device)
        noisy = schedule.add_noise(clean, noise, timestep)
        target = (schedule.get_velocity(clean, noise, timestep) if prediction == "v_prediction"
                  else noise)
        predicted = unet(noisy, timestep, encoder_hidden_states=prompt).sample
        loss = F.mse_loss(predicted.float(), target.float())
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        value = float(loss.detach())
        if not np.isfinite(value):
            raise InferenceError(f"LoRA training diverged at step {step + 1} (loss {value}); "
                                 "lower PORTRAIT_LORA_LEARNING_RATE.", code="lora_diverged")
        losses.append(value)
        progress("lora", (step + 1) / options.steps)
    unet.eval()
    del optimiser  # its moment buffers; the frozen parts go when the caller's copy does
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    finished = time.perf_counter()
    return unet, losses, {"load_s": loaded - started, "encode_s": encoded - loaded,
                          "train_s": finished - encoded}


def kohya_state_dict(unet) -> dict[str, Any]:
    """The UNet's LoRA adapter as kohya names it (``lora_unet_…lora_down/lora_up`` and
    ``.alpha``), float32 on the CPU."""
    from diffusers.utils import convert_state_dict_to_kohya
    from peft.utils import get_peft_model_state_dict

    peft_state = {f"unet.{k}": v for k, v in get_peft_model_state_dict(unet).items()}
    kohya = convert_state_dict_to_kohya(peft_state)
    return {k: v.detach().float().cpu().contiguous() for k, v in kohya.items()}


def _load_parts(model_dir: Path, device: str) -> dict[str, Any]:
    import torch
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    # Frozen parts in half precision on a GPU; the UNet, whose adapter learns, in full.
    frozen = torch.float16 if device.startswith("cuda") else torch.float32
    try:
        return {
            "unet": UNet2DConditionModel.from_pretrained(model_dir / "unet",
                                                         local_files_only=True).to(device),
            "vae": AutoencoderKL.from_pretrained(model_dir / "vae", torch_dtype=frozen,
                                                 local_files_only=True).to(device),
            "text_encoder": CLIPTextModel.from_pretrained(model_dir / "text_encoder",
                                                          torch_dtype=frozen,
                                                          local_files_only=True).to(device),
            "tokenizer": CLIPTokenizer.from_pretrained(model_dir / "tokenizer",
                                                       local_files_only=True),
            "scheduler": DDPMScheduler.from_pretrained(model_dir / "scheduler",
                                                       local_files_only=True),
        }
    except Exception as error:  # whatever a broken folder makes diffusers raise
        raise ModelLoadError(f"Could not load the Stable Diffusion parts in {model_dir} for "
                             f"training: {error}") from error


def _pixels(faces: Sequence[np.ndarray], side: int):
    """The faces as a (n, 3, side, side) float tensor in [-1, 1], the VAE's range."""
    import torch
    from PIL import Image

    resized = [np.asarray(Image.fromarray(face).resize((side, side), Image.LANCZOS))
               for face in faces]
    stack = np.stack(resized).astype(np.float32) / 127.5 - 1.0
    return torch.from_numpy(stack).permute(0, 3, 1, 2).contiguous()


def _encode_prompt(tokenizer, text_encoder, device: str):
    ids = tokenizer([TRAIN_PROMPT], padding="max_length", max_length=tokenizer.model_max_length,
                    truncation=True, return_tensors="pt").input_ids.to(device)
    return text_encoder(ids)[0]


__all__ = ["TRAIN_PROMPT", "TRIGGER", "TrainedLora", "TrainingOptions", "kohya_state_dict",
           "lora_digest", "lora_header", "lora_state_dict", "train_lora", "train_unet_lora",
           "training_faces"]
