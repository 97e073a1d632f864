"""The AnimeGANv2 generator, laid out so that its ``state_dict`` is exactly that of the public
animegan2-pytorch checkpoints (77 tensors). Input and output are RGB scaled to [-1, 1].

Its normalisation is GroupNorm with one group: statistics over the whole image. Tiled inference
needs those statistics to be the same in every tile, so a run can be given a ``TileContext``
that records each norm's statistics, or replays given ones, and swaps in the whole image's
upsampling grid (see ``tiling.py``). The context is an argument of ``forward``, made per call:
the modules keep no state between runs, so one generator serves many threads at once.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


Upsample = Callable[[torch.Tensor, tuple[int, int], int], torch.Tensor]  # (x, size, stage)


@dataclass(frozen=True)
class TileContext:
    """What one run does differently from a plain one; every field is optional.

    ``statistics``: per norm, in ``Generator.norms()`` order, the (2,) mean and variance to use
    instead of the input's. ``recorded``: a list each norm appends its measured (mean, variance)
    to, in the same order. ``upsample``: replaces the generator's own upsampling.
    """

    statistics: Sequence[torch.Tensor] | None = None
    recorded: list[torch.Tensor] | None = None
    upsample: Upsample | None = None


class ImageNorm(nn.GroupNorm):
    """GroupNorm(1, C) that can record its per-image mean and variance, or replay given ones."""

    def __init__(self, channels: int) -> None:
        super().__init__(num_groups=1, num_channels=channels, affine=True)
        self.index = 0  # its place in ``Generator.norms()``, set once by the generator

    def forward(self, x: torch.Tensor, context: TileContext | None = None) -> torch.Tensor:
        if context is None or (context.statistics is None and context.recorded is None):
            return F.group_norm(x, 1, self.weight, self.bias, self.eps)
        if context.statistics is not None:
            mean, variance = context.statistics[self.index][0], context.statistics[self.index][1]
        else:
            variance, mean = torch.var_mean(x.float(), dim=(1, 2, 3), unbiased=False)
            mean, variance = mean[0], variance[0]
            context.recorded.append(torch.stack([mean, variance]))
        scale = self.weight.float() * torch.rsqrt(variance + self.eps)
        shift = self.bias.float() - mean * scale
        return x * scale.to(x.dtype).view(1, -1, 1, 1) + shift.to(x.dtype).view(1, -1, 1, 1)


def _through(layers: nn.Sequential, x: torch.Tensor, context: TileContext | None) -> torch.Tensor:
    """``layers(x)``, handing ``context`` to the layers that take one."""
    for layer in layers:
        x = layer(x, context) if isinstance(layer, _TAKES_CONTEXT) else layer(x)
    return x


class ConvNormLReLU(nn.Sequential):
    def __init__(self, in_ch, out_ch, kernel_size=3, stride=1, padding=1, groups=1, bias=False):
        super().__init__(
            nn.ReflectionPad2d(padding),
            nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, padding=0, groups=groups, bias=bias),
            ImageNorm(out_ch),
            nn.LeakyReLU(0.2, inplace=True),
        )

    def forward(self, x: torch.Tensor, context: TileContext | None = None) -> torch.Tensor:
        return _through(self, x, context)


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

    def forward(self, x: torch.Tensor, context: TileContext | None = None) -> torch.Tensor:
        out = _through(self.layers, x, context)
        return x + out if self.use_res_connect else out


_TAKES_CONTEXT = (ImageNorm, ConvNormLReLU, InvertedResBlock)


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
        for index, norm in enumerate(self.norms()):
            norm.index = index

    def forward(self, x: torch.Tensor, context: TileContext | None = None) -> torch.Tensor:
        """(1, 3, H, W) float32 in [-1, 1] -> the same; a bfloat16 copy of the generator (see
        ``runtime``) converts on the way in and out, so callers never see its dtype."""
        x = x.to(self.out_layer[0].weight.dtype)
        if x.dtype == torch.bfloat16:
            x = x.contiguous(memory_format=torch.channels_last)  # oneDNN's fast bf16 layout
        out = _through(self.block_a, x, context)
        half_size = out.shape[-2:]
        out = _through(self.block_c, _through(self.block_b, out, context), context)
        out = self.upsample(out, tuple(half_size), 0, context)
        out = _through(self.block_d, out, context)
        out = self.upsample(out, tuple(x.shape[-2:]), 1, context)
        return self.out_layer(_through(self.block_e, out, context)).float()

    @staticmethod
    def upsample(x: torch.Tensor, size: tuple[int, int], stage: int,
                 context: TileContext | None = None) -> torch.Tensor:
        """Bilinear, align_corners=True, to an exact size; tiling swaps in the whole image's grid."""
        if context is not None and context.upsample is not None:
            return context.upsample(x, size, stage)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=True)

    def norms(self) -> list[ImageNorm]:
        return [m for m in self.modules() if isinstance(m, ImageNorm)]


def to_tensor(rgb) -> torch.Tensor:
    """RGB uint8 (H, W, 3) -> (1, 3, H, W) float32 in [-1, 1]."""
    return torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0).float().div_(127.5).sub_(1.0)


def to_rgb(tensor: torch.Tensor):
    """(1, 3, H, W) in [-1, 1] -> RGB uint8 (H, W, 3)."""
    return tensor[0].permute(1, 2, 0).add(1.0).mul(127.5).round_().clamp_(0, 255).byte().numpy()
