"""The AnimeGANv2 generator, laid out so that its ``state_dict`` is exactly that of the public
animegan2-pytorch checkpoints (77 tensors). Input and output are RGB scaled to [-1, 1].

Its normalisation is GroupNorm with one group: statistics over the whole image. Tiled inference
needs those statistics to be the same in every tile, so each norm layer can record the
statistics of one run and replay them in later runs (see ``tiling.py``). What a run records or
replays, and the upsampling grid tiling swaps in, live in context variables of the calling
thread, never on the modules: one generator serves many threads at once.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

import torch
import torch.nn.functional as F
from torch import nn


Upsample = Callable[[torch.Tensor, tuple[int, int], int], torch.Tensor]  # (x, size, stage)

# Per thread (and per asyncio task): norm -> the (mean, variance) list a run appends to, or the
# (2,) mean, variance tensor it replays; generator -> the upsampling that replaces its own.
_recording: ContextVar[dict | None] = ContextVar("image_norm_recording", default=None)
_replaying: ContextVar[dict | None] = ContextVar("image_norm_replaying", default=None)
_upsampling: ContextVar[dict | None] = ContextVar("generator_upsampling", default=None)


@contextmanager
def _bound(variable: ContextVar, values: dict):
    """Within the block, ``variable`` also maps ``values`` (in this thread only)."""
    token = variable.set({**(variable.get() or {}), **values})
    try:
        yield
    finally:
        variable.reset(token)


class ImageNorm(nn.GroupNorm):
    """GroupNorm(1, C) that can record its per-image mean and variance, or replay given ones."""

    def __init__(self, channels: int) -> None:
        super().__init__(num_groups=1, num_channels=channels, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        replayed = (_replaying.get() or {}).get(self)
        recorded = (_recording.get() or {}).get(self)
        if replayed is None and recorded is None:
            return F.group_norm(x, 1, self.weight, self.bias, self.eps)
        if replayed is not None:
            mean, variance = replayed[0], replayed[1]
        else:
            variance, mean = torch.var_mean(x.float(), dim=(1, 2, 3), unbiased=False)
            recorded.append(torch.stack([mean[0], variance[0]]))
            mean, variance = mean[0], variance[0]
        scale = self.weight.float() * torch.rsqrt(variance + self.eps)
        shift = self.bias.float() - mean * scale
        return x * scale.to(x.dtype).view(1, -1, 1, 1) + shift.to(x.dtype).view(1, -1, 1, 1)


class ConvNormLReLU(nn.Sequential):
    def __init__(self, in_ch, out_ch, kernel_size=3, stride=1, padding=1, groups=1, bias=False):
        super().__init__(
            nn.ReflectionPad2d(padding),
            nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, padding=0, groups=groups, bias=bias),
            ImageNorm(out_ch),
            nn.LeakyReLU(0.2, inplace=True),
        )


class InvertedResBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, expansion_ratio: int = 2) -> None:
        super().__init__()
        self.use_res_connect = in_ch == out_ch
        bottleneck = int(round(in_ch * expansion_ratio))
        self.layers = nn.Sequential(
            ConvNormLReLU(in_ch, bottleneck, kernel_size=1, padding=0),
            ConvNormLReLU(bottleneck, bottleneck, groups=bottleneck, bias=True),  # depthwise
            nn.Conv2d(bottleneck, out_ch, kernel_size=1, padding=0, bias=False),  # pointwise
            ImageNorm(out_ch),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(x)
        return x + out if self.use_res_connect else out


class Generator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block_a = nn.Sequential(
            ConvNormLReLU(3, 32, kernel_size=7, padding=3),
            ConvNormLReLU(32, 64, stride=2, padding=(0, 1, 0, 1)),
            ConvNormLReLU(64, 64),
        )
        self.block_b = nn.Sequential(
            ConvNormLReLU(64, 128, stride=2, padding=(0, 1, 0, 1)),
            ConvNormLReLU(128, 128),
        )
        self.block_c = nn.Sequential(
            ConvNormLReLU(128, 128),
            InvertedResBlock(128, 256, 2),
            InvertedResBlock(256, 256, 2),
            InvertedResBlock(256, 256, 2),
            InvertedResBlock(256, 256, 2),
            ConvNormLReLU(256, 128),
        )
        self.block_d = nn.Sequential(ConvNormLReLU(128, 128), ConvNormLReLU(128, 128))
        self.block_e = nn.Sequential(
            ConvNormLReLU(128, 64),
            ConvNormLReLU(64, 64),
            ConvNormLReLU(64, 32, kernel_size=7, padding=3),
        )
        self.out_layer = nn.Sequential(nn.Conv2d(32, 3, kernel_size=1, bias=False), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(1, 3, H, W) float32 in [-1, 1] -> the same; a bfloat16 copy of the generator (see
        ``runtime``) converts on the way in and out, so callers never see its dtype."""
        x = x.to(self.out_layer[0].weight.dtype)
        if x.dtype == torch.bfloat16:
            x = x.contiguous(memory_format=torch.channels_last)  # oneDNN's fast bf16 layout
        out = self.block_a(x)
        half_size = out.shape[-2:]
        out = self.block_c(self.block_b(out))
        out = self.upsample(out, tuple(half_size), 0)
        out = self.block_d(out)
        out = self.upsample(out, tuple(x.shape[-2:]), 1)
        return self.out_layer(self.block_e(out)).float()

    def upsample(self, x: torch.Tensor, size: tuple[int, int], stage: int) -> torch.Tensor:
        """Bilinear, align_corners=True, to an exact size; tiling swaps in the whole image's grid."""
        replaced = (_upsampling.get() or {}).get(self)
        if replaced is not None:
            return replaced(x, size, stage)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=True)

    def norms(self) -> list[ImageNorm]:
        return [m for m in self.modules() if isinstance(m, ImageNorm)]

    @contextmanager
    def recording_statistics(self):
        """Within the block, this thread's runs append each norm's (mean, variance); yields the
        list of lists."""
        recorded = {norm: [] for norm in self.norms()}
        with _bound(_recording, recorded):
            yield list(recorded.values())

    @contextmanager
    def replaying_statistics(self, statistics: list[torch.Tensor]):
        """Within the block, every norm uses the given (mean, variance) instead of its input's
        in this thread's runs."""
        with _bound(_replaying, dict(zip(self.norms(), statistics, strict=True))):
            yield

    @contextmanager
    def upsampling_with(self, upsample: Upsample):
        """Within the block, this thread's runs upsample with ``upsample(x, size, stage)``."""
        with _bound(_upsampling, {self: upsample}):
            yield


def to_tensor(rgb) -> torch.Tensor:
    """RGB uint8 (H, W, 3) -> (1, 3, H, W) float32 in [-1, 1]."""
    return torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0).float().div_(127.5).sub_(1.0)


def to_rgb(tensor: torch.Tensor):
    """(1, 3, H, W) in [-1, 1] -> RGB uint8 (H, W, 3)."""
    return tensor[0].permute(1, 2, 0).add(1.0).mul(127.5).round_().clamp_(0, 255).byte().numpy()
