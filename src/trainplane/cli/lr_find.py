"""``trainplane lr-find SPEC``: a learning-rate range test for a Linear Learner job spec.

Reads the spec's ``train`` channel (``file://`` or ``s3://``, staged as host 1 of 1 would be), runs
:func:`trainplane.algorithms.linear_learner.lr_find.range_test`, and prints a table with the
recommended ``learning_rate`` and the largest ``mini_batch_size`` that fits the spec's instance type.
The loss curve is written as a PNG (``--plot``) by the small dependency-free writer below: log10(lr) on
x, loss on y; raw losses grey, smoothed loss blue, the recommended rate green, the minimum red.
"""

from __future__ import annotations

import argparse
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from trainplane.errors import TrainplaneError

WIDTH, HEIGHT, MARGIN = 640, 400, 40
_GREY, _BLUE, _GREEN, _RED, _BLACK = (190, 190, 190), (31, 119, 180), (44, 160, 44), (214, 39, 40), (0, 0, 0)


class LrFindError(TrainplaneError):
    pass


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("lr-find", help="learning-rate range test for a Linear Learner job spec")
    parser.add_argument(
        "spec", type=Path, help="CreateTrainingJob request (JSON or YAML), linear-learner image"
    )
    parser.add_argument("--steps", type=int, default=300, help="mini-batches in the test (default 300)")
    parser.add_argument("--min-lr", type=float, default=1e-6)
    parser.add_argument("--max-lr", type=float, default=10.0)
    parser.add_argument(
        "--plot", type=Path, default=Path("lr_find.png"), help="PNG path (default lr_find.png)"
    )


def run(args: argparse.Namespace, console: Console) -> int:
    from trainplane.algorithms.linear_learner import data, lr_find
    from trainplane.algorithms.linear_learner.hyperparameters import parse
    from trainplane.algorithms.registry import LINEAR_LEARNER, builtin_for_image
    from trainplane.catalog import instances
    from trainplane.cli.specs import load_spec

    request = load_spec(args.spec)
    image = request.get("AlgorithmSpecification", {}).get("TrainingImage")
    if builtin_for_image(image) is not LINEAR_LEARNER:
        raise LrFindError(f"{args.spec}: lr-find needs a linear-learner TrainingImage, not {image!r}")
    raw = {str(k): str(v) for k, v in (request.get("HyperParameters") or {}).items()}
    hp = parse(raw)
    instance_type = request.get("ResourceConfig", {}).get("InstanceType", "")
    instance = instances.lookup(instance_type)
    if instance is None:
        raise LrFindError(f"{args.spec}: instance type {instance_type!r} is not in trainplane's catalog")
    train = next((c for c in request.get("InputDataConfig", []) if c.get("ChannelName") == "train"), None)
    if train is None:
        raise LrFindError(f"{args.spec}: the spec has no train channel")
    with tempfile.TemporaryDirectory(prefix="trainplane-lr-find-") as scratch:
        directory = _stage(train, Path(scratch) / "train", args.home)
        dataset = data.read_channel("train", directory, {"ContentType": train.get("ContentType")})
        data.check("train", directory, dataset, hp, hp.feature_dim)
    result = lr_find.range_test(raw, dataset, steps=args.steps, min_lr=args.min_lr, max_lr=args.max_lr)
    bound = lr_find.batch_bound(hp, dataset.num_rows, dataset.num_features, instance.memory_gib)
    write_png(args.plot, plot_pixels(result))
    console.print(report_table(result, bound, instance_type, dataset.num_rows))
    console.print(f"Plot: {args.plot}")
    return 0


def _stage(channel: dict[str, Any], dest: Path, home: str | None) -> Path:
    from trainplane.runtime.staging import stage_channel
    from trainplane.settings import load_settings
    from trainplane.storage import open_storage

    settings = load_settings(home=home)
    storage = open_storage(settings.local_s3_root, settings.s3_endpoint_url)
    stage_channel({**channel, "InputMode": "File"}, dest, storage, host_index=0, host_count=1)
    return dest


def report_table(result: Any, bound: Any, instance_type: str, rows: int) -> Table:
    table = Table(title="Linear Learner learning-rate range test")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("recommended learning_rate (lr at min / 10)", f"{result.recommended_lr:.3g}")
    table.add_row("lr at the smoothed loss minimum", f"{result.lr_at_min:.3g}")
    table.add_row("lr of steepest descent", f"{result.steepest_lr:.3g}")
    table.add_row("minimum smoothed loss", f"{float(np.nanmin(result.smoothed)):.4g}")
    stopped = " (stopped: loss diverged)" if result.diverged else ""
    table.add_row("steps run", f"{len(result.losses)}{stopped}")
    table.add_row("training records", str(rows))
    table.add_row(
        f"largest mini_batch_size for {instance_type} ({bound.instance_memory_gib:g} GiB)",
        str(bound.max_mini_batch_size) + (" (= all records)" if bound.max_mini_batch_size == rows else ""),
    )
    table.add_row(
        "  data resident / per-row step bytes", f"{bound.data_bytes / 2**20:.1f} MiB / {bound.per_row_bytes}"
    )
    return table


# ------------------------------------------------------------------ plot
def plot_pixels(result: Any) -> np.ndarray:
    """An RGB image ``[HEIGHT, WIDTH, 3]`` of the range test."""
    image = np.full((HEIGHT, WIDTH, 3), 255, dtype=np.uint8)
    x = np.log10(result.learning_rates)
    finite = np.isfinite(result.smoothed)
    low, high = float(np.nanmin(result.smoothed)), float(np.nanmax(result.smoothed[finite]))
    high = max(high, low + 1e-12)

    def px(lx: np.ndarray, loss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = MARGIN + (lx - x[0]) / max(x[-1] - x[0], 1e-12) * (WIDTH - 2 * MARGIN)
        v = HEIGHT - MARGIN - (np.clip(loss, low, high) - low) / (high - low) * (HEIGHT - 2 * MARGIN)
        return u, v

    _box(image)
    for decade in range(int(np.ceil(x[0])), int(np.floor(x[-1])) + 1):  # ticks at each power of ten
        u, _ = px(np.array([decade]), np.array([low]))
        image[HEIGHT - MARGIN : HEIGHT - MARGIN + 6, int(u[0])] = _BLACK
    raw = np.where(np.isfinite(result.losses), result.losses, high)
    _polyline(image, *px(x, raw), _GREY)
    _polyline(image, *px(x[finite], result.smoothed[finite]), _BLUE)
    for rate, colour in ((result.recommended_lr, _GREEN), (result.lr_at_min, _RED)):
        u, _ = px(np.array([np.log10(rate)]), np.array([low]))
        if MARGIN <= u[0] < WIDTH - MARGIN:
            image[MARGIN : HEIGHT - MARGIN, int(u[0])] = colour
    return image


def _box(image: np.ndarray) -> None:
    image[MARGIN, MARGIN : WIDTH - MARGIN] = _BLACK
    image[HEIGHT - MARGIN, MARGIN : WIDTH - MARGIN] = _BLACK
    image[MARGIN : HEIGHT - MARGIN + 1, MARGIN] = _BLACK
    image[MARGIN : HEIGHT - MARGIN + 1, WIDTH - MARGIN] = _BLACK


def _polyline(image: np.ndarray, u: np.ndarray, v: np.ndarray, colour: tuple[int, int, int]) -> None:
    """Segments drawn by dense sampling (enough points that consecutive pixels touch)."""
    for i in range(len(u) - 1):
        count = int(max(abs(u[i + 1] - u[i]), abs(v[i + 1] - v[i]))) + 2
        us = np.linspace(u[i], u[i + 1], count).round().astype(int).clip(0, WIDTH - 1)
        vs = np.linspace(v[i], v[i + 1], count).round().astype(int).clip(0, HEIGHT - 1)
        image[vs, us] = colour


def write_png(path: Path, image: np.ndarray) -> None:
    """Write an 8-bit RGB PNG (signature, IHDR, one zlib IDAT, IEND) without any imaging library."""
    height, width, _ = image.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), image.reshape(height, -1)], axis=1)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    png += chunk(b"IDAT", zlib.compress(rows.tobytes(), 9)) + chunk(b"IEND", b"")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(png)
