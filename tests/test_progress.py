"""One progress helper for run, report and sweep (twin/progress.py), one switch, -q."""

from __future__ import annotations

import io
import os
import pty

import pytest

from tests.conftest import SCENARIOS, run_cli
from twin.cli import _parser
from twin.progress import Progress, iterate, resolve_mode


def test_a_bar_shows_on_a_terminal_that_reports_no_size():
    master, slave = pty.openpty()                      # a pseudo-terminal never sized: 0 x 0
    assert os.get_terminal_size(slave) == os.terminal_size((0, 0))
    stream = os.fdopen(slave, "w", buffering=1)
    try:
        with Progress(4, "simulating", unit="days", stream=stream) as p:
            assert p.mode == "bar"
            for _ in range(4):
                p.update(1)
        stream.flush()
        out = os.read(master, 65536).decode()
    finally:
        stream.close()
        os.close(master)
    assert "simulating" in out and "0/4 [" in out and "\r" in out          # drawn (then cleared on close)


def test_lines_elsewhere_and_nothing_when_off():
    plain = io.StringIO()
    with Progress(3, "sweep", unit="runs", stream=plain, every_s=0.0) as p:
        p.update(2, failed=1)
        p.update(1, failed=1)
    lines = plain.getvalue().splitlines()
    assert [line.split(",")[:2] for line in lines] == [["sweep: 2/3 runs", " 1 failed"], ["sweep: 3/3 runs", " 1 failed"]]
    assert "left" in lines[0] and "left" not in lines[1]
    off = io.StringIO()
    assert list(iterate(range(3), "x", mode="none", stream=off)) == [0, 1, 2] and off.getvalue() == ""
    assert resolve_mode(False) == "none" and resolve_mode(True, plain) == "lines"
    with pytest.raises(ValueError, match="progress: one of auto, bar, lines, none"):
        resolve_mode("loud")


def test_every_long_command_takes_the_same_switches():
    p = _parser()
    for argv in (["run", "x.toml"], ["report", "r"], ["sweep", "run", "d"]):
        assert p.parse_args(argv).progress == "auto"
        assert p.parse_args([*argv, "--no-progress"]).progress == "none"
        assert p.parse_args([*argv, "--progress"]).progress == "auto"
        assert p.parse_args([*argv, "--progress", "lines"]).progress == "lines"
        assert p.parse_args([*argv, "-q"]).quiet


def test_twin_run_progress_lines_quiet_and_off(tmp_path):
    tiny = str(SCENARIOS / "tiny" / "small_city.toml")
    proc = run_cli("run", tiny, "--days", "4", "--out", str(tmp_path / "a"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[-1].startswith("simulating: 4/4 days")   # not a terminal: lines
    assert "fill of need" in proc.stdout
    proc = run_cli("run", tiny, "--days", "4", "--out", str(tmp_path / "b"), "--no-progress")
    assert proc.returncode == 0 and proc.stderr == ""
    proc = run_cli("run", tiny, "--days", "4", "--out", str(tmp_path / "c"), "-q")
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout == f"wrote {tmp_path / 'c'}\n"
