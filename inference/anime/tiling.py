"""Run the generator over a large image in overlapping tiles, with bounded memory and no seams.

Three things would make a tile disagree with the whole-image result, and each is removed:
- the generator's image-wide normalisation: its statistics are measured once on the whole image
  (downscaled) and replayed in every tile;
- its two align_corners upsamplings, whose sampling grid depends on the image size: each tile
  samples at the positions the whole image's grid would use;
- the reflection padding at a tile's edge: a margin next to each inner edge is dropped and the
  rest of the overlap is cross-faded.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from inference.anime.generator import Generator, TileContext, to_tensor
from inference.progress import Progress, silent

TILE = 512
OVERLAP = 128  # pixels shared by neighbouring tiles
MARGIN = 40  # of those, ignored next to a tile's inner edge (padding artefacts live here)
STATISTICS_SIDE = 768  # the long side of the whole-image pass that measures the statistics
_ALIGN = 4  # tile origins on multiples of the generator's downsampling, so grids line up


def image_statistics(generator: Generator, rgb: np.ndarray, *, side: int = STATISTICS_SIDE) -> list[torch.Tensor]:
    """Per-norm (mean, variance) of the generator run on the whole image, scaled to ``side``."""
    scale = min(1.0, side / max(rgb.shape[:2]))
    if scale < 1.0:
        size = (max(4, round(rgb.shape[1] * scale)), max(4, round(rgb.shape[0] * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    recorded: list[torch.Tensor] = []
    with torch.inference_mode():
        generator(to_tensor(rgb), TileContext(recorded=recorded))
    return recorded


def tile_spans(length: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """(start, end) of the tiles along one axis; starts on multiples of 4, the last tile reaches
    the far edge (and may be up to 3 pixels longer than ``tile``)."""
    if length <= tile:
        return [(0, length)]
    step = (tile - overlap) // _ALIGN * _ALIGN
    starts = list(range(0, length - tile, step))
    last = (length - tile) // _ALIGN * _ALIGN
    if last > starts[-1]:
        starts.append(last)
    return [(start, min(start + tile, length)) for start in starts[:-1]] + [(starts[-1], length)]


def run_tiled(
    generator: Generator,
    rgb: np.ndarray,
    *,
    statistics: list[torch.Tensor] | None = None,
    tile: int = TILE,
    overlap: int = OVERLAP,
    margin: int = MARGIN,
    progress: Progress = silent,
) -> np.ndarray:
    """The generator's output for ``rgb`` (uint8 RGB), computed tile by tile."""
    if statistics is None:
        statistics = image_statistics(generator, rgb)
    height, width = rgb.shape[:2]
    total = np.zeros((height, width, 3), np.float32)
    weights = np.zeros((height, width, 1), np.float32)
    rows, columns = tile_spans(height, tile, overlap), tile_spans(width, tile, overlap)
    done, count = 0, len(rows) * len(columns)
    with torch.inference_mode():
        for top, bottom in rows:
            for left, right in columns:
                crop = np.ascontiguousarray(rgb[top:bottom, left:right])
                context = TileContext(statistics=statistics,
                                      upsample=_whole_image_grid((height, width), (top, left)))
                styled = generator(to_tensor(crop), context)[0].permute(1, 2, 0)
                styled = styled.add(1.0).mul(127.5).numpy()
                weight = (
                    _ramp(bottom - top, top > 0, bottom < height, overlap, margin)[:, None]
                    * _ramp(right - left, left > 0, right < width, overlap, margin)[None, :]
                )[..., None]
                total[top:bottom, left:right] += styled * weight
                weights[top:bottom, left:right] += weight
                done += 1
                progress("tiles", done / count)
    return np.clip(total / np.maximum(weights, 1e-6) + 0.5, 0, 255).astype(np.uint8)


def _downsampled(length: int) -> int:
    """Output length of the generator's stride-2 convolutions (kernel 3, padded by 1 at the end)."""
    return (length - 2) // 2 + 1


def _whole_image_grid(image_size: tuple[int, int], origin: tuple[int, int]):
    """An upsampling that samples the tile at ``origin`` at the positions the whole image's
    align_corners grid would, instead of the tile's own grid."""
    full = image_size
    half = tuple(_downsampled(n) for n in full)
    quarter = tuple(_downsampled(n) for n in half)
    # (global source length, global target length, tile origin in source, tile origin in target)
    grids = {
        0: [(quarter[axis], half[axis], origin[axis] // 4, origin[axis] // 2) for axis in (0, 1)],
        1: [(half[axis], full[axis], origin[axis] // 2, origin[axis]) for axis in (0, 1)],
    }

    def upsample(x: torch.Tensor, size: tuple[int, int], stage: int) -> torch.Tensor:
        rows, columns = (
            _interpolation_matrix(*grids[stage][axis], x.shape[2 + axis], size[axis]) for axis in (0, 1)
        )
        return torch.einsum("oh,nchw,pw->ncop", rows.to(x.dtype), x, columns.to(x.dtype))

    return upsample


def _interpolation_matrix(source_length, target_length, source_origin, target_origin, local_in, local_out):
    """(local_out, local_in) linear-interpolation weights: global align_corners positions,
    shifted into the tile and clamped at its edges."""
    scale = (source_length - 1) / max(target_length - 1, 1)
    position = (np.arange(local_out) + target_origin) * scale - source_origin
    position = np.clip(position, 0, local_in - 1)
    low = np.minimum(np.floor(position).astype(int), max(local_in - 2, 0))
    fraction = position - low
    matrix = np.zeros((local_out, local_in), np.float32)
    matrix[np.arange(local_out), low] += 1.0 - fraction
    matrix[np.arange(local_out), np.minimum(low + 1, local_in - 1)] += fraction
    return torch.from_numpy(matrix)


def _ramp(length: int, fade_start: bool, fade_end: bool, overlap: int, margin: int) -> np.ndarray:
    """1 inside the tile; 0 for ``margin`` pixels at an inner edge, then a linear rise."""
    position = np.arange(length, dtype=np.float32) + 0.5
    rise = max(overlap - 2 * margin, 1)
    weight = np.ones(length, np.float32)
    if fade_start:
        weight = np.minimum(weight, np.clip((position - margin) / rise, 0.0, 1.0))
    if fade_end:
        weight = np.minimum(weight, np.clip((length - position - margin) / rise, 0.0, 1.0))
    return weight
