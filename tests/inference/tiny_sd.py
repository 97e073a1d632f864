"""Builds a tiny Stable Diffusion 1.5-format pipeline with random weights, for tests.

The folder it writes has the same layout as a real SD1.5 checkpoint in the diffusers format
(model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/), so tests load it through
the real loader. Nothing is downloaded. It renders noise, in well under a second at 64x64.
"""
from __future__ import annotations

import json
from pathlib import Path

# Letters, digits and a little punctuation are enough for the prompts our pipelines build;
# anything else becomes the unknown token.
_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789,.-'!"
_MERGES = ["s m", "sm i", "smi l", "a n", "an i", "l e</w>"]


def write_tiny_clip_vocab(folder: Path) -> Path:
    """Write a tiny CLIP BPE vocabulary (vocab.json + merges.txt) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    tokens = ["<|startoftext|>", "<|endoftext|>"]
    tokens += list(_CHARS) + [c + "</w>" for c in _CHARS]
    tokens += ["".join(m.split()) for m in _MERGES]
    vocab = {token: i for i, token in enumerate(dict.fromkeys(tokens))}
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(_MERGES) + "\n", encoding="utf-8")
    return folder


def build_tiny_sd(path: Path | str, *, seed: int = 0) -> Path:
    """Save a tiny random SD1.5-format pipeline at ``path``; ``seed`` picks the weights."""
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    path = Path(path)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=8,
        block_out_channels=(16, 32),
        layers_per_block=1,
        norm_num_groups=8,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=4,
    )
    # Four blocks, as in SD1.5, so the VAE scales by 8: 64x64 pixels are 8x8 latents.
    vae = AutoencoderKL(
        block_out_channels=(8, 8, 16, 16),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=8,
        sample_size=64,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=128,
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=77,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    # With transformers 5 the CLIPTokenizer constructor ignores vocab files; from_pretrained reads them.
    tokenizer = CLIPTokenizer.from_pretrained(write_tiny_clip_vocab(path / "tokenizer"), model_max_length=77)
    scheduler = PNDMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        skip_prk_steps=True,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(path)
    # Real SD1.5 folders hold the tokenizer as vocab.json + merges.txt, without tokenizer.json:
    # keep to that layout so tests load what production loads.
    (path / "tokenizer" / "tokenizer.json").unlink(missing_ok=True)
    return path


def build_tiny_lora(model_dir: Path | str, path: Path | str, *, seed: int = 0) -> Path:
    """Save a random LoRA for the tiny pipeline's UNet at ``path`` (.safetensors, diffusers format).

    Needs peft, as loading LoRAs does.
    """
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel.from_pretrained(Path(model_dir) / "unet")
    # Random rather than zero-initialised, so the LoRA visibly changes the output.
    unet.add_adapter(
        LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"], init_lora_weights=False)
    )
    StableDiffusionPipeline.save_lora_weights(
        save_directory=path.parent,
        unet_lora_layers=convert_state_dict_to_diffusers(get_peft_model_state_dict(unet)),
        weight_name=path.name,
    )
    return path
