# SPDX-License-Identifier: GPL-3.0-or-later
"""Read an MP4's tracks from its boxes (ISO/IEC 14496-12) in pure Python: a stand-in for ffprobe.

Walks moov/trak/mdia (mdhd: timescale and duration; hdlr: track kind) and minf/stbl (stsd: codec,
picture size or channels and rate; stts: sample count).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Track:
    handler: str
    """``vide`` or ``soun``."""
    codec: str
    """Sample entry type: ``avc1`` (H.264), ``mp4a`` (MPEG-4 audio), ..."""
    duration: float
    """Seconds, from the media header."""
    samples: int
    """Video frames or audio packets."""
    width: int = 0
    height: int = 0
    profile: int = 0
    """H.264 profile_idc (66 baseline, 77 main, 100 high)."""
    channels: int = 0
    sample_rate: int = 0
    object_type: int = 0
    """MPEG-4 objectTypeIndication of an audio track; 0x40 is AAC."""


def _boxes(data: bytes, start: int = 0, end: int | None = None):
    """Yield ``(type, payload_start, box_end)`` for the boxes in ``data[start:end]``."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise ValueError(f"corrupt box {kind!r} at {pos}")
        yield kind, pos + header, pos + size
        pos += size


def _find(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for k, s, e in _boxes(data, start, end):
        if k == kind:
            return s, e
    return None


def _descriptor_length(data: bytes, pos: int) -> tuple[int, int]:
    length = 0
    for _ in range(4):
        byte = data[pos]
        pos += 1
        length = (length << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    return length, pos


def _aac_object_type(data: bytes, start: int, end: int) -> int:
    """objectTypeIndication from the esds box inside an mp4a sample entry."""
    esds = _find(data, start, end, b"esds")
    if esds is None:
        return 0
    pos = esds[0] + 4  # version and flags
    if data[pos] != 0x03:  # ES_Descriptor
        return 0
    _, pos = _descriptor_length(data, pos + 1)
    flags = data[pos + 2]
    pos += 3
    if flags & 0x80:
        pos += 2
    if flags & 0x40:
        pos += 1 + data[pos]
    if flags & 0x20:
        pos += 2
    if data[pos] != 0x04:  # DecoderConfigDescriptor
        return 0
    _, pos = _descriptor_length(data, pos + 1)
    return data[pos]


def _track(data: bytes, start: int, end: int) -> Track:
    mdia = _find(data, start, end, b"mdia")
    mdhd = _find(data, *mdia, b"mdhd")
    version = data[mdhd[0]]
    if version == 1:
        timescale, duration = struct.unpack_from(">IQ", data, mdhd[0] + 20)
    else:
        timescale, duration = struct.unpack_from(">II", data, mdhd[0] + 12)
    hdlr = _find(data, *mdia, b"hdlr")
    handler = data[hdlr[0] + 8 : hdlr[0] + 12].decode("latin-1")
    stbl = _find(data, *_find(data, *mdia, b"minf"), b"stbl")
    stts = _find(data, *stbl, b"stts")
    (entries,) = struct.unpack_from(">I", data, stts[0] + 4)
    samples = sum(struct.unpack_from(">I", data, stts[0] + 8 + 8 * i)[0] for i in range(entries))
    stsd = _find(data, *stbl, b"stsd")
    kind, entry, entry_end = next(_boxes(data, stsd[0] + 8, stsd[1]))
    track = Track(handler, kind.decode("latin-1"), duration / timescale, samples)
    if handler == "vide":
        track.width, track.height = struct.unpack_from(">HH", data, entry + 24)
        avcc = _find(data, entry + 78, entry_end, b"avcC")
        if avcc is not None:
            track.profile = data[avcc[0] + 1]
    elif handler == "soun":
        track.channels = struct.unpack_from(">H", data, entry + 16)[0]
        track.sample_rate = struct.unpack_from(">I", data, entry + 24)[0] >> 16
        track.object_type = _aac_object_type(data, entry + 28, entry_end)
    return track


def probe(path: str | Path) -> list[Track]:
    """The tracks of the MP4 at ``path``; raises ``ValueError`` when it has no movie box."""
    data = Path(path).read_bytes()
    moov = _find(data, 0, len(data), b"moov")
    if moov is None:
        raise ValueError(f"{path} has no moov box")
    return [_track(data, s, e) for k, s, e in _boxes(data, *moov) if k == b"trak"]
