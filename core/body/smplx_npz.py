# SPDX-License-Identifier: GPL-3.0-or-later
"""SMPL-X motion ``.npz`` that SMPL-X tools load (AMASS / BEAT2 key names).

Keys written: ``poses`` (T,165) axis-angle in smplx joint order, ``trans`` (T,3) metres,
``betas`` (B,), ``gender`` (``neutral``), ``mocap_frame_rate``, ``surface_model_type``
(``smplx``), and the same pose split the way ``smplx.SMPLX.forward`` takes it:
``root_orient`` (T,3), ``pose_body`` (T,63), ``pose_jaw`` (T,3), ``pose_eye`` (T,6),
``pose_hand`` (T,90); optional ``expressions`` (T,100). ``flat_hand_mean`` is False: hand
rotations are relative to the MANO mean hand, so build the model with
``smplx.create(..., use_pca=False, flat_hand_mean=False)``. Coordinates are SMPL-X model space
(Y up), as BEAT2/EMAGE write them (AMASS files are Z up: rotate them yourself).

No object arrays: the file loads with ``np.load(allow_pickle=False)``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import InputError, OutputError
from ..names import NUM_JOINTS
from ..paths import atomic_file
from ..types import BodyTrack


def smplx_arrays(body: BodyTrack, expressions: np.ndarray | None = None,
                 gender: str = "neutral") -> dict[str, np.ndarray]:
    """The arrays :func:`write_smplx_npz` writes."""
    t = body.frames
    p = body.poses.reshape(t, NUM_JOINTS * 3).astype(np.float32)
    out = {
        "poses": p,
        "trans": body.trans.astype(np.float32),
        "betas": body.betas.astype(np.float32),
        "gender": np.array(gender),
        "mocap_frame_rate": np.array(body.fps, np.float64),
        "surface_model_type": np.array("smplx"),
        "flat_hand_mean": np.array(False),
        "root_orient": p[:, 0:3],
        "pose_body": p[:, 3:66],
        "pose_jaw": p[:, 66:69],
        "pose_eye": p[:, 69:75],
        "pose_hand": p[:, 75:165],
    }
    if expressions is not None:
        e = np.asarray(expressions, np.float32)
        if e.shape[0] != t:
            raise InputError(f"expressions have {e.shape[0]} frames, the body {t}")
        out["expressions"] = e
    return out


def write_smplx_npz(body: BodyTrack, path: str | os.PathLike, *,
                    expressions: np.ndarray | None = None, gender: str = "neutral") -> Path:
    """Write ``body`` as an SMPL-X motion npz (atomically); returns the path."""
    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise OutputError(f"{path}: an SMPL-X motion file must end in .npz")
    if not path.parent.is_dir():
        raise OutputError(f"{path}: the folder {path.parent} does not exist")
    arrays = smplx_arrays(body, expressions, gender)
    with atomic_file(path) as f:
        np.savez(f, **arrays)
    return path


def read_smplx_npz(path: str | os.PathLike) -> BodyTrack:
    """Read ``poses``/``trans``/``betas``/``mocap_frame_rate`` (ours, BEAT2, EMAGE) as a BodyTrack.

    The rate may also be named ``mocap_framerate`` (older AMASS files).
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except Exception as e:  # BadZipFile, ValueError (pickled objects), OSError
        raise InputError(f"{path}: not a readable SMPL-X npz ({type(e).__name__}: {e})") from None
    if "poses" not in data:
        raise InputError(f"{path}: missing key 'poses' (not an SMPL-X motion npz)")
    poses = np.asarray(data["poses"], np.float32)
    if poses.ndim != 2 or poses.shape[1] != NUM_JOINTS * 3 or poses.shape[0] == 0:
        raise InputError(f"{path}: 'poses' must have shape (T,165), got {poses.shape}")
    t = poses.shape[0]
    rate = data.get("mocap_frame_rate", data.get("mocap_framerate"))
    if rate is None:
        raise InputError(f"{path}: missing 'mocap_frame_rate' (the motion's fps)")
    trans = np.asarray(data.get("trans", np.zeros((t, 3))), np.float32)
    if trans.shape != (t, 3):
        raise InputError(f"{path}: 'trans' must have shape ({t},3), got {trans.shape}")
    betas = np.asarray(data.get("betas", np.zeros(10)), np.float32)
    betas = betas[0] if betas.ndim == 2 else betas.reshape(-1)
    return BodyTrack(float(np.asarray(rate).reshape(-1)[0]), poses.reshape(t, NUM_JOINTS, 3),
                     trans, betas)
