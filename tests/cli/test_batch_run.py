# SPDX-License-Identifier: GPL-3.0-or-later
"""A 3-shot job run locally, then on a local Ray cluster of 2 worker nodes (one of them lost
mid-render): the same frames and the same videos, and a re-run skips finished work."""

import json
import threading
import time
from pathlib import Path

import pytest
from mp4probe import probe

from paksatalker.headless import batch, jobs

pytestmark = pytest.mark.blender

JOB = """\
[job]
output = "out"
seed = 1

[defaults]
engine = "workbench"
resolution = "96x54"
fps = 10

[[shot]]
name = "one"
text = "Hi there."
exports = ["mp4", "npz", "png"]

[[shot]]
name = "two"
text = "[happy] Good morning!"
camera = "close_up"

[[shot]]
name = "three"
performance = "../given/perf.npz"
exports = ["mp4", "wav"]
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    given = root / "given"
    given.mkdir()
    batch.run_step(["generate", "--text", "Okay.", "--fps", "10", "--out",
                    str(given / "perf.npz")], root / "gen.log", "test generate")
    return root


def _load(d: Path) -> jobs.Job:
    """The job in folder ``d``, allowed to read the shared Performance in ../given."""
    (d / "jobs.toml").write_text(JOB.replace("[job]", '[job]\nallow = ["../given"]'),
                                 encoding="utf-8")
    return jobs.load(d / "jobs.toml")


def outputs(job: jobs.Job) -> dict[str, str]:
    manifest = json.loads((job.output / batch.MANIFEST).read_text())
    return {rel: digest for s in manifest["shots"].values() for rel, digest in s["outputs"].items()}


@pytest.fixture(scope="module")
def local(workspace):
    d = workspace / "local"
    d.mkdir()
    job = _load(d)
    log: list[str] = []
    batch.run_local(job, log.append)
    return job, log


def test_local_run_writes_every_export_with_checksums(local):
    job, log = local
    out = outputs(job)
    assert {"one/one.mp4", "one/one.npz", "one/one.wav", "two/two.mp4", "three/three.mp4",
            "three/three.wav"} <= set(out)
    assert any(k.startswith("one/frames/frame_") for k in out)
    for rel, digest in out.items():
        assert batch.sha256(job.output / rel) == digest
    for shot in ("one", "two", "three"):
        video = next(t for t in probe(job.output / shot / f"{shot}.mp4") if t.handler == "vide")
        manifest = json.loads((job.output / batch.MANIFEST).read_text())["shots"][shot]
        assert video.samples == manifest["frames"] and (video.width, video.height) == (96, 54)
        assert (job.output / shot / "logs").is_dir()
    assert sum("done in" in line for line in log) == 3


def test_rerun_skips_finished_shots_and_resumes_frames(local):
    job, _ = local
    before = outputs(job)
    log: list[str] = []
    batch.run_local(job, log.append)
    assert sum("skipped" in line for line in log) == 3
    assert outputs(job) == before
    # a lost video and one lost frame: only that frame is rendered again
    f = batch.files_for(job, job.shots[1])
    (job.output / "two" / "two.mp4").unlink()
    frame = sorted(f.frames.glob("frame_*.png"))[2]
    frame.unlink()
    kept = {p: p.stat().st_mtime_ns for p in f.frames.glob("frame_*.png")}
    log.clear()
    batch.run_local(job, log.append)
    assert any("two: render 1 of" in line for line in log)
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())
    assert outputs(job) == before


def test_ray_cluster_matches_local_and_survives_a_lost_worker(workspace, local):
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    from paksatalker.headless import ray_batch

    local_job, _ = local
    d = workspace / "ray"
    d.mkdir()
    job = _load(d)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    try:
        cluster.add_node(num_cpus=1)
        doomed = cluster.add_node(num_cpus=1)
        frames = batch.files_for(job, job.shots[0]).frames
        lost = threading.Event()

        def kill_worker_mid_render():
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                if frames.is_dir() and any(frames.glob("frame_*.png")):
                    cluster.remove_node(doomed)
                    lost.set()
                    return
                time.sleep(0.2)

        killer = threading.Thread(target=kill_worker_mid_render)
        killer.start()
        ray_batch.run_ray(job, cluster.address, chunk=3, report=lambda m: None)
        killer.join()
        assert lost.is_set()
        retried = [p for p in job.output.glob("*/logs/render-*.log")
                   if p.read_text().count("$ ") > 1]
        finished = outputs(job)
    finally:
        ray.shutdown()
        cluster.shutdown()
    assert finished == outputs(local_job)  # same frames, same videos, byte for byte
    assert retried, "no render task was re-run after its worker was lost"


def test_batch_caps_render_threads_through_the_renderers_variable():
    from paksatalker.scenes.render import THREADS_ENV

    assert batch.THREADS_ENV == THREADS_ENV
