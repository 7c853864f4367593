# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a job file on a Ray cluster: generation per shot and frame ranges of renders as tasks.

Ray schedules and retries; nothing here re-implements that. Each task runs the same
``paksatalker`` step as :func:`.batch.run_local` (so the frames, and the video encoded from them,
are the ones a single machine makes). A task whose worker dies is re-run by Ray on another
worker (``max_retries``); a re-run render keeps the frames already written and renders the rest.

Every node must see the job's folders at the same paths (a shared file system) and have this
package installed in the same Python environment.
"""

from __future__ import annotations

import math
import time

from ..core.errors import BackendError, InputError
from . import batch
from .jobs import Job

RENDER_RETRIES = 3


def connect(address: str):
    """Connect to ``address`` ("auto": a running cluster if there is one, else a local one)."""
    try:
        import ray
    except ImportError:
        raise BackendError("--ray needs the ray package: pip install 'paksatalker[batch]' "
                           "(or pip install ray)") from None
    if ray.is_initialized():
        return ray
    kwargs = {"log_to_driver": False, "configure_logging": False}
    try:
        if address == "auto":
            try:
                ray.init(address="auto", **kwargs)
            except ConnectionError:
                ray.init(**kwargs)
        else:
            ray.init(address=address, **kwargs)
    except ConnectionError as e:
        raise InputError(f"cannot reach a Ray cluster at {address}: {e}") from None
    return ray


def _getter(ray):
    """``ray.get`` that turns a failed task into the task's own one-line error."""
    from ..core.errors import PaksaError

    def get(refs):
        try:
            return ray.get(refs)
        except ray.exceptions.RayTaskError as e:
            cause = getattr(e, "cause", None)
            if isinstance(cause, PaksaError):
                raise cause from None
            raise BackendError(f"a Ray task failed: {str(e).splitlines()[0][:300]}") from None
        except ray.exceptions.RayError as e:
            raise BackendError(f"Ray: {str(e).splitlines()[0][:300]}") from None

    return get


def chunks(total: int, todo: list[int], size: int) -> list[tuple[int, int]]:
    """Contiguous runs of the frames still to render, each at most ``size`` frames long."""
    runs: list[tuple[int, int]] = []
    for n in todo:
        if runs and n == runs[-1][1] + 1 and n - runs[-1][0] < size:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def run_ray(job: Job, address: str = "auto", *, chunk: int | None = None,
            cpus_per_task: int = 1, report: batch.Report = print) -> dict:
    """Run every unfinished shot of ``job`` on Ray; returns the manifest.

    A render task asks Ray for ``cpus_per_task`` CPUs and renders with that many threads, so the
    tasks Ray packs on a node never oversubscribe it."""
    ray = connect(address)
    workers = max(1, int(ray.cluster_resources().get("CPU", 1)) // cpus_per_task)
    remote = ray.remote(num_cpus=1)
    gen_task = remote(batch.generate)
    count_task = remote(batch.frame_count)
    render_task = ray.remote(num_cpus=cpus_per_task,
                             max_retries=RENDER_RETRIES)(batch.render_range)
    finish_task = remote(batch.finish)

    manifest = batch.read_manifest(job)
    pending = []
    for shot in job.shots:
        if batch.is_done(job, shot, manifest):
            report(f"{shot.name}: done earlier, skipped")
        else:
            pending.append(batch.files_for(job, shot))
    job.output.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    report(f"ray: {len(pending)} shot(s), {workers} render task(s) at a time")
    get = _getter(ray)
    get([gen_task.remote(f) for f in pending])
    totals = get([count_task.remote(f) for f in pending])

    renders = {}
    for f, total in zip(pending, totals):
        if "mp4" not in f.shot.exports and "png" not in f.shot.exports:
            continue
        todo = batch.missing_frames(f, total)
        size = chunk or max(1, math.ceil(total / (2 * workers)))
        runs = chunks(total, todo, size)
        report(f"{f.shot.name}: {len(todo)} of {total} frames in {len(runs)} task(s)")
        renders[f.shot.name] = [render_task.remote(f, a, b, cpus_per_task) for a, b in runs]
    for refs in renders.values():
        get(refs)

    outputs = get([finish_task.remote(f, total) for f, total in zip(pending, totals)])
    for f, total, out in zip(pending, totals, outputs):
        batch.record(manifest, f.shot, total, out, time.monotonic() - t0)
        batch.drop_stale_work(f)
    batch.write_manifest(job, manifest)
    report(f"ray: {len(pending)} shot(s) done in {time.monotonic() - t0:.1f} s")
    return manifest
