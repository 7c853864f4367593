# SPDX-License-Identifier: GPL-3.0-or-later
"""Job files: valid ones resolve paths and seeds; malformed ones fail naming the line."""

import subprocess
import sys
from pathlib import Path

import pytest

from paksatalker.core.errors import InputError
from paksatalker.headless import jobs

CLI = str(Path(sys.executable).with_name("paksatalker"))

GOOD = """\
[job]
output = "renders"
allow = ["../shared_in"]
seed = 5

[defaults]
engine = "workbench"
resolution = "320x180"
fps = 24

[[shot]]
name = "intro"
text = "Hello [happy] there!"
exports = ["mp4", "npz", "bvh"]
camera = "close_up"

[[shot]]
name = "outro"
script_file = "../shared_in/outro.txt"
seed = 11
no_dof = true
"""


@pytest.fixture
def jobdir(tmp_path):
    (tmp_path / "shared_in").mkdir()
    (tmp_path / "shared_in" / "outro.txt").write_text("Goodbye.", encoding="utf-8")
    d = tmp_path / "job"
    d.mkdir()
    return d


def write(d: Path, text: str) -> Path:
    p = d / "jobs.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_valid_job_resolves_paths_seeds_and_options(jobdir):
    job = jobs.load(write(jobdir, GOOD))
    assert job.output == (jobdir / "renders").resolve()
    intro, outro = job.shots
    assert intro.exports == ("mp4", "npz", "bvh") and intro.line == 11
    assert intro.seed == jobs.derive_seed(5, "intro")
    assert intro.seed == jobs.load(write(jobdir, GOOD)).shots[0].seed  # stable
    assert "--camera" in intro.render_args and "close_up" in intro.render_args
    assert intro.generate_args[:2] == ("--text", "Hello [happy] there!")
    assert "--engine" not in intro.generate_args  # a render-only option
    assert outro.seed == 11 and outro.exports == ("mp4",)
    script = outro.generate_args[outro.generate_args.index("--script-file") + 1]
    assert Path(script) == (jobdir.parent / "shared_in" / "outro.txt").resolve()
    assert "--no-dof" in outro.render_args
    assert intro.key != outro.key


@pytest.mark.parametrize("change, line, words", [
    (("fps = 24", "fps = 24\nfps = 25"), 10, "not valid TOML"),
    (('camera = "close_up"', 'camera = "fisheye"'), 15, "fisheye"),
    (('camera = "close_up"', 'cameras = "close_up"'), 15, "unknown option 'cameras'"),
    (('name = "outro"', 'name = "intro"'), 18, "two shots are named 'intro'"),
    (('script_file = "../shared_in/outro.txt"', 'script_file = "../../etc/passwd"'), 19,
     "outside the folders"),
    (('script_file = "../shared_in/outro.txt"', 'script_file = "../shared_in/none.txt"'), 19,
     "no such file"),
    (('exports = ["mp4", "npz", "bvh"]', 'exports = ["mp4", "gif"]'), 14, "unknown export 'gif'"),
    (('text = "Hello [happy] there!"', 'text = "Hi"\nperformance = "x.npz"'), 11,
     "needs one of text"),
    (('output = "renders"', 'output = "/tmp/elsewhere"'), 2, "outside the job's folders"),
    (('seed = 11', 'seed = -1'), 20, "non-negative"),
    (('engine = "workbench"', 'out = "x.mp4"'), 7, "belongs in a [[shot]]"),
    (('[defaults]', '[default]'), 6, "unknown table [default]"),
])
def test_malformed_jobs_name_the_line(jobdir, change, line, words):
    old, new = change
    assert old in GOOD
    path = write(jobdir, GOOD.replace(old, new, 1))
    with pytest.raises(InputError) as err:
        jobs.load(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}:{line}:"), msg
    assert words in msg and "\n" not in msg


def test_cli_reports_a_bad_job_in_one_line(jobdir):
    path = write(jobdir, GOOD.replace('resolution = "320x180"', 'resolution = "big"'))
    res = subprocess.run([CLI, "batch", str(path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{path}:8: [defaults]" in lines[0] and "WIDTHxHEIGHT" in lines[0]
    ok = subprocess.run([CLI, "batch", str(write(jobdir, GOOD)), "--check"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "intro" in ok.stdout and "2 shot(s)" in ok.stdout
