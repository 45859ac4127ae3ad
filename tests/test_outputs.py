"""Where runs are written and how (issue 10): the replace rule, default folders that never collide,
stale temporaries cleaned, permissions from the umask, one line for a bug."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.conftest import SCENARIOS, run_cli
from twin.cli import main
from twin.recording.writer import atomic_dir, atomic_file, folder_lock

TINY = str(SCENARIOS / "tiny" / "one_of_each.toml")


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def test_explicit_out_replaces_a_run_folder_and_says_so(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", TINY, "--days", "2", "--out", str(out)]) == 0
    assert "replaced" not in capsys.readouterr().out
    assert main(["run", TINY, "--days", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"replaced the earlier run in {out} (scenario one_of_each, seed 1, 2 days)" in printed
    assert _manifest(out)["days"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_default_folders_differ_for_different_inputs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    runs = [[], ["--days", "2"], ["--days", "3"], ["--seed", "7", "--days", "2"],
            ["--set", "households.online_share=0.5", "--days", "2"]]
    folders = []
    for flags in runs:
        assert main(["run", TINY, *flags]) == 0
        folders.append(capsys.readouterr().out.strip().splitlines()[-1].removeprefix("wrote "))
    assert folders[0] == "results/one_of_each"
    assert len(set(folders)) == len(folders)
    assert all(f.startswith("results/one_of_each-") and len(f) == len("results/one_of_each-") + 8 for f in folders[1:])
    assert main(["run", TINY, "--days", "2"]) == 0     # the same inputs: the same folder, replaced
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"wrote {folders[1]}"
    assert main(["run", TINY]) == 0                      # the file as written: its own default folder, replaced
    assert "replaced the earlier run in results/one_of_each" in capsys.readouterr().out
    assert _manifest(tmp_path / folders[0])["source"] == str(Path(TINY).resolve())
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == sorted(Path(f).name for f in folders)


def test_stale_temporaries_of_a_killed_writer_are_removed_on_the_next_write(tmp_path):
    out = tmp_path / "r"
    (tmp_path / ".r.k1ll3d.partial").mkdir()
    (tmp_path / ".r.k1ll3d.partial" / "nodes.parquet").write_bytes(b"half")
    (tmp_path / ".r.0ld0ld0.old").mkdir()
    (tmp_path / ".r.old-1a2b3c4d").mkdir()                     # as twin 0.1 named them
    (tmp_path / ".other.x.partial").mkdir()                    # not ours: left alone
    assert main(["run", TINY, "--days", "2", "--out", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.x.partial", "r"]


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_permissions_follow_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        with atomic_dir(tmp_path / "d") as tmp:
            (tmp / "f").write_text("x")
        with atomic_file(tmp_path / "g.html") as tmp:
            tmp.write_text("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o777 & ~mask
    assert stat.S_IMODE((tmp_path / "g.html").stat().st_mode) == 0o666 & ~mask


def test_run_folder_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        assert main(["run", TINY, "--days", "2", "--out", str(tmp_path / "r")]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "r" / "nodes.parquet").stat().st_mode) == 0o644


def test_a_failed_write_leaves_neither_folder_nor_lock(tmp_path):
    with pytest.raises(RuntimeError):
        with folder_lock(tmp_path / "new" / "deeper" / "r"):
            with atomic_dir(tmp_path / "new" / "deeper" / "r") as tmp:
                (tmp / "f").write_text("x")
                raise RuntimeError("disk on fire")
    assert list(tmp_path.iterdir()) == []


def test_a_second_writer_is_refused_and_the_first_keeps_its_lock(tmp_path):
    from twin.scenario import ScenarioError
    with folder_lock(tmp_path / "r"):
        with pytest.raises(ScenarioError, match="another twin is writing it now"):
            with folder_lock(tmp_path / "r"):
                pass
        assert (tmp_path / ".r.lock").exists()
    assert not (tmp_path / ".r.lock").exists()
    with folder_lock(tmp_path / "r"):   # free again
        pass


def test_a_bug_is_one_line_naming_the_traceback_file(tmp_path, monkeypatch, capsys):
    import twin.api

    def broken(*args, **kwargs):
        raise ZeroDivisionError("something inside twin")

    monkeypatch.setattr(twin.api, "simulate", broken)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    assert main(["run", TINY, "--days", "2", "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "internal error" in err[0] and "a bug" in err[0], err
    assert "ZeroDivisionError: something inside twin" in err[0]
    crash = Path(err[0].split("full traceback in ")[1].split(";")[0])
    assert crash.parent == tmp_path and "Traceback" in crash.read_text() and "broken" in crash.read_text()
    assert not (tmp_path / "r").exists() and not (tmp_path / ".r.lock").exists()


def test_validate_runs_the_checks_run_makes(tmp_path, capsys):
    text = (SCENARIOS / "tiny" / "small_city.toml").read_text() + (
        "\n[[lockdowns]]\nlevel = 'static'\ndistricts = ['atlantis']\nstart_day = 1\nend_day = 2\n")
    (tmp_path / "s.toml").write_text(text)
    assert main(["validate", str(tmp_path / "s.toml")]) == 2
    assert "lockdowns[0].districts: no district named 'atlantis'" in capsys.readouterr().err


def test_sweep_run_with_port_8787_taken_prints_no_dask_warning(tmp_path):
    import socket

    from twin.sweep import plan_sweep
    (tmp_path / "sw.toml").write_text(f"""name = "port"
base = "{(SCENARIOS / 'sweeps' / 'town.toml').as_posix()}"
days = 2
root_seed = 1
[sampler]
method = "latin"
samples = 2
[[uncertainties]]
field = "shocks[0].factor"
range = [0.2, 0.8]
""")
    plan_sweep(tmp_path / "sw.toml", tmp_path / "swp")
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            busy.bind(("0.0.0.0", 8787))
            busy.listen()
        except OSError:
            pass  # something else holds it already: the case under test
        proc = run_cli("sweep", "run", str(tmp_path / "swp"), "--workers", "1", "--progress", "none")  # as a user
    assert proc.returncode == 0, proc.stderr
    assert "8787" not in proc.stderr and "already in use" not in proc.stderr, proc.stderr
    assert not (tmp_path / ".swp.lock").exists() and not (tmp_path / "swp" / ".staging").exists()
    mode = stat.S_IMODE(next((tmp_path / "swp" / "chunks").iterdir()).stat().st_mode)
    assert mode == 0o777 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_racing_writers_never_fail_midway_nor_strand_folders(tmp_path):
    """Many writers at one output: each either writes whole or is refused before it starts."""
    import threading

    from twin.scenario import ScenarioError
    out = tmp_path / "r"
    results: list[str] = []

    def writer(k: int) -> None:
        for i in range(25):
            try:
                with folder_lock(out):
                    with atomic_dir(out) as tmp:
                        (tmp / "who").write_text(f"{k}-{i}")
                results.append("ok")
            except ScenarioError:
                results.append("refused")
            except Exception as err:  # noqa: BLE001 - what the test is about
                results.append(repr(err))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(results) <= {"ok", "refused"} and "ok" in results, set(results)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
    assert sorted(p.name for p in out.iterdir()) == ["who"]
