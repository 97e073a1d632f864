"""Benchmark: AnimeGANv2 generator, plain eager fp32 reference vs the runner the service uses,
plus the procedural style. Same random weights, one process, one run; prints medians.

    .venv/bin/python bench/anime.py [--repeats 5] [--sizes 256 512 1024]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inference.anime.generator import Generator, to_rgb, to_tensor  # noqa: E402
from inference.anime.runtime import GeneratorRunner  # noqa: E402
from inference.config import inference_threads  # noqa: E402


# --- The reference: animegan2-pytorch's generator as published, plain eager fp32. ---
class _ConvNormLReLU(nn.Sequential):
    def __init__(self, in_ch, out_ch, kernel_size=3, stride=1, padding=1, groups=1, bias=False):
        super().__init__(
            nn.ReflectionPad2d(padding),
            nn.Conv2d(in_ch, out_ch, kernel_size=kernel_size, stride=stride, padding=0, groups=groups, bias=bias),
            nn.GroupNorm(num_groups=1, num_channels=out_ch, affine=True),
            nn.LeakyReLU(0.2, inplace=True),
        )


class _InvertedResBlock(nn.Module):
    def __init__(self, in_ch, out_ch, expansion_ratio=2):
        super().__init__()
        self.use_res_connect = in_ch == out_ch
        bottleneck = int(round(in_ch * expansion_ratio))
        layers = []
        if expansion_ratio != 1:
            layers.append(_ConvNormLReLU(in_ch, bottleneck, kernel_size=1, padding=0))
        layers.append(_ConvNormLReLU(bottleneck, bottleneck, groups=bottleneck, bias=True))
        layers.append(nn.Conv2d(bottleneck, out_ch, kernel_size=1, padding=0, bias=False))
        layers.append(nn.GroupNorm(num_groups=1, num_channels=out_ch, affine=True))
        self.layers = nn.Sequential(*layers)

    def forward(self, input):
        out = self.layers(input)
        return input + out if self.use_res_connect else out


class ReferenceGenerator(nn.Module):
    def __init__(self):
        super().__init__()
        self.block_a = nn.Sequential(
            _ConvNormLReLU(3, 32, kernel_size=7, padding=3),
            _ConvNormLReLU(32, 64, stride=2, padding=(0, 1, 0, 1)),
            _ConvNormLReLU(64, 64),
        )
        self.block_b = nn.Sequential(_ConvNormLReLU(64, 128, stride=2, padding=(0, 1, 0, 1)), _ConvNormLReLU(128, 128))
        self.block_c = nn.Sequential(
            _ConvNormLReLU(128, 128),
            _InvertedResBlock(128, 256, 2),
            _InvertedResBlock(256, 256, 2),
            _InvertedResBlock(256, 256, 2),
            _InvertedResBlock(256, 256, 2),
            _ConvNormLReLU(256, 128),
        )
        self.block_d = nn.Sequential(_ConvNormLReLU(128, 128), _ConvNormLReLU(128, 128))
        self.block_e = nn.Sequential(
            _ConvNormLReLU(128, 64), _ConvNormLReLU(64, 64), _ConvNormLReLU(64, 32, kernel_size=7, padding=3)
        )
        self.out_layer = nn.Sequential(nn.Conv2d(32, 3, kernel_size=1, stride=1, padding=0, bias=False), nn.Tanh())

    def forward(self, input, align_corners=True):
        out = self.block_a(input)
        half_size = out.size()[-2:]
        out = self.block_b(out)
        out = self.block_c(out)
        out = F.interpolate(out, half_size, mode="bilinear", align_corners=align_corners)
        out = self.block_d(out)
        out = F.interpolate(out, input.size()[-2:], mode="bilinear", align_corners=align_corners)
        out = self.block_e(out)
        return self.out_layer(out)


def _median_seconds(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_generator(sizes: list[int], repeats: int) -> None:
    torch.manual_seed(0)
    reference = ReferenceGenerator().eval()
    with torch.no_grad():  # random norm affines too, so every layer matters
        for module in reference.modules():
            if isinstance(module, nn.GroupNorm):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
    ours = Generator()
    ours.load_state_dict(reference.state_dict())  # the same 77 tensors
    start = time.perf_counter()
    runner = GeneratorRunner(ours)
    print(f"runner: backend={runner.backend}, chosen and loaded in {time.perf_counter() - start:.1f} s")
    for backend, probe in runner.probe.items():
        print(f"  load-time probe, 256²: {backend:<12} {probe['seconds']:.3f} s, MAD {probe['mad']:.3f}/255")
    print(f"{'size':>6} {'reference s':>12} {'ours s':>8} {'speed-up':>9} {'MAD /255':>9}")
    rng = np.random.default_rng(0)
    for size in sizes:
        rgb = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        # Smooth noise looks more like a photo than white noise does.
        rgb = np.ascontiguousarray(np.clip(
            torch.nn.functional.interpolate(to_tensor(rgb[::8, ::8]), size=(size, size), mode="bilinear")[0]
            .permute(1, 2, 0).add(1).mul(127.5).numpy(), 0, 255).astype(np.uint8))
        with torch.inference_mode():
            expected = to_rgb(reference(to_tensor(rgb)))
        got = runner.run(rgb)
        mad = float(np.abs(expected.astype(np.float32) - got.astype(np.float32)).mean())
        reference_times, our_times = [], []
        for _ in range(repeats):  # interleaved, so load from other processes hits both alike
            with torch.inference_mode():
                reference_times.append(_median_seconds(lambda: reference(to_tensor(rgb)), 1))
            our_times.append(_median_seconds(lambda: runner.run(rgb), 1))
        ref_s, our_s = statistics.median(reference_times), statistics.median(our_times)
        print(f"{size:>5}² {ref_s:>12.3f} {our_s:>8.3f} {ref_s / our_s:>8.2f}x {mad:>9.3f}")


def bench_procedural(repeats: int) -> None:
    from skimage import data

    from inference.anime import stylize
    from inference.anime import toon
    from inference.anime.procedural import stylize_face
    from inference.faces import align_face, detect_faces

    photo = data.astronaut()  # 512 x 512
    face = detect_faces(photo)[0]
    aligned = align_face(photo, face)
    landmarks = aligned.to_aligned(face.landmarks)
    stylize(photo)  # warm-up: models load
    print("procedural style at 512² (median of", repeats, "runs):")
    print(f"  face square only     {_median_seconds(lambda: stylize_face(aligned.image, landmarks), repeats):.3f} s")
    print(f"  scene treatment only {_median_seconds(lambda: toon.scene(photo), repeats):.3f} s")
    print(f"  stylize(mode=face)   {_median_seconds(lambda: stylize(photo, mode='face'), repeats):.3f} s  (detection included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-procedural", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(inference_threads())
    print(f"torch {torch.__version__}, {inference_threads()} threads, {os.cpu_count()} CPUs, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}")
    bench_generator(args.sizes, args.repeats)
    if not args.skip_procedural:
        bench_procedural(args.repeats)


if __name__ == "__main__":
    main()
