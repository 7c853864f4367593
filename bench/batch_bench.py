# SPDX-License-Identifier: GPL-3.0-or-later
"""Batch throughput on Ray: frames per minute with 1 and with 2 worker nodes, side by side.

    .venv/bin/python bench/batch_bench.py [--shots 2] [--engine cycles] [--resolution 320x180]

Each run starts a fresh local Ray cluster (a head without CPUs plus N one-CPU worker nodes),
runs the same job (the same Performances, generated once up front) into a fresh folder, and
times the whole batch: render tasks, encoding and manifest. Frames per minute counts video
frames written. On a 2-core machine two workers can at best double the single worker's rate.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from paksatalker.headless import batch, jobs, ray_batch

TEXTS = (
    "Welcome back. Today we look at how the new avatar speaks and moves.",
    "[happy] Thanks for watching, and see you next time!",
    "Batch rendering spreads the frames of every shot over the cluster.",
    "Each worker renders a range of frames, and the video is assembled at the end.",
)


def job_text(shots: int, engine: str, resolution: str, fps: float, samples: int) -> str:
    lines = ["[job]", 'output = "out"', 'allow = ["../given"]', "", "[defaults]",
             f'engine = "{engine}"', f'resolution = "{resolution}"', f"fps = {fps:g}",
             f"samples = {samples}", ""]
    for i in range(shots):
        lines += ["[[shot]]", f'name = "shot{i + 1}"', f'performance = "../given/p{i}.npz"', ""]
    return "\n".join(lines)


def run(workers: int, root: Path, text: str, chunk: int | None) -> tuple[float, int]:
    import ray
    from ray.cluster_utils import Cluster

    folder = root / f"workers{workers}"
    folder.mkdir()
    (folder / "jobs.toml").write_text(text, encoding="utf-8")
    job = jobs.load(folder / "jobs.toml")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    try:
        for _ in range(workers):
            cluster.add_node(num_cpus=1)
        ray_batch.connect(cluster.address)
        t0 = time.perf_counter()
        manifest = ray_batch.run_ray(job, cluster.address, chunk=chunk, report=lambda m: None)
        seconds = time.perf_counter() - t0
    finally:
        ray.shutdown()
        cluster.shutdown()
    return seconds, sum(s["frames"] for s in manifest["shots"].values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shots", type=int, default=2)
    ap.add_argument("--engine", default="cycles", choices=("cycles", "eevee", "workbench"))
    ap.add_argument("--resolution", default="320x180")
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--fps", type=float, default=12)
    ap.add_argument("--chunk", type=int, help="frames per render task (default: automatic)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="paksatalker-batch-bench-") as tmp:
        root = Path(tmp)
        given = root / "given"
        given.mkdir()
        for i in range(args.shots):
            batch.run_step(["generate", "--text", TEXTS[i % len(TEXTS)], "--fps", f"{args.fps:g}",
                            "--out", str(given / f"p{i}.npz")], root / "generate.log", "generate")
        text = job_text(args.shots, args.engine, args.resolution, args.fps, args.samples)
        results = {}
        for workers in (1, 2):
            seconds, frames = run(workers, root, text, args.chunk)
            results[workers] = (seconds, frames)
            print(f"{workers} Ray worker(s): {frames} frames in {seconds:6.1f} s = "
                  f"{frames / seconds * 60:6.1f} frames/min")
        (s1, f1), (s2, f2) = results[1], results[2]
        print(f"speed-up, 2 vs 1 workers: {(f2 / s2) / (f1 / s1):.2f}x "
              f"({args.engine}, {args.resolution}, {args.samples} samples, {args.shots} shots)")


if __name__ == "__main__":
    main()
