"""``twin calibrate``: fit scenario fields to observed targets with Optuna, the runs on Dask.

The study lives in the calibration folder (an Optuna journal file, ``study.journal``), so a
calibration that was stopped resumes where it was: trials already scored are never run again, and
trials proposed but not scored are run with the values they were given. Trials are proposed
``batch`` at a time, their runs (``replicates`` each) submitted to the same Dask cluster as sweeps
(:func:`twin.sweep.runner.open_client`), and scored in trial order once all are back; the sampler is
reseeded for every trial from the root seed and the trial's number, so a calibration gives the same
trials whether it ran in one go or was resumed, and whatever the number of workers.

Every replicate ``r`` of every trial runs with the seed ``SeedSequence(root_seed, spawn_key=(0, r))``
(common random numbers: two trials differ by their field values, not by their draws).

Folder::

    DIR/manifest.json        what was calibrated: id, spec, fields, targets, base scenario
    DIR/base_scenario.json   the resolved base scenario (with the file's ``set``)
    DIR/calibration.toml     the calibration file as given
    DIR/targets.parquet      the targets as read (target, t_day, label, value)
    DIR/study.journal        the Optuna study (resume)
    DIR/outputs/trial_NNNNNN.parquet   each trial's model figures per replicate
    DIR/trials.parquet       one row per trial: values, loss per target and in all, state
    DIR/best.json, best.toml the best trial's fields (a JSON object; a scenario extending the base)
    DIR/fit.png              targets against the best trial's model figures (replicate band)
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import json
import math
import os
import re
import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from twin.calibrate.config import MAX_TRIALS, LoadedCalibration, Target, check_target_labels, read_calibration
from twin.calibrate.loss import MissingOutput, align, replicate_mean, target_error, total_loss
from twin.calibrate.outputs import model_output, table_frame
from twin.recording.tables import make_table
from twin.recording.writer import (atomic_dir, atomic_file, clean_stale, folder_lock, read_json,
                                   write_parquet_atomic)
from twin.scenario import ScenarioError

__all__ = ["CalibrationReport", "calibrate", "load_trials", "run_replicate"]

KIND = "twin-calibration"
JOURNAL = "study.journal"
OUTPUTS = "outputs"


@dataclass(frozen=True)
class CalibrationReport:
    """What ``calibrate`` did: the folder, trials run now and in all, and the best trial."""

    folder: Path
    calibration_id: str
    ran: int
    complete: int
    failed: int
    best_trial: int | None
    best_loss: float | None
    best_fields: dict[str, Any]
    resumed: bool
    files: tuple[Path, ...]
    wall_s: float

    @property
    def exit_code(self) -> int:
        """0 when a best trial exists, 3 when every trial failed."""
        return 0 if self.best_trial is not None else 3


def calibrate(config: str | Path, out: str | Path | None = None, *, workers: int | None = None,
              scheduler: str | None = None, client: Any = None, progress: bool = True,
              trials: int | None = None) -> CalibrationReport:
    """Run (or resume) the calibration of ``config``; write the calibration folder ``out``
    (default ``results/calibrations/<name>``) and return what was done.

    ``client``: an existing ``distributed.Client`` (then ``workers`` and ``scheduler`` are unused).
    ``trials``: go up to this many trials in all instead of the file's ``trials`` (a first look; run
    again to go on). Every check is made before anything is written (:class:`ScenarioError`, one line).
    """
    t0 = time.perf_counter()
    loaded = read_calibration(config)
    if trials is not None:
        if not 1 <= trials <= MAX_TRIALS:
            raise ScenarioError(str(config), "--trials", f"must be between 1 and {MAX_TRIALS:,}, got {trials}")
        loaded = dataclasses.replace(loaded, spec=loaded.spec.model_copy(update={"trials": int(trials)}))
    out = Path(out) if out is not None else Path("results") / "calibrations" / loaded.spec.name
    cid = loaded.calibration_id
    with folder_lock(out, "twin calibrate"):
        clean_stale(out)
        resumed = _check_folder(out, cid)
        check_outputs(loaded)
        if not resumed:
            _write_new(out, loaded, cid)
        else:
            repair_journal(out / JOURNAL)
        study = _open_study(out, cid)
        ran = 0
        with _use_client(client, workers, scheduler) as c:
            base = c.submit(_identity, loaded.base, pure=False, key=f"calibrate-base-{cid}-{os.getpid()}")
            from twin.sweep.runner import sigint_noted
            try:
                with sigint_noted() as ctrl_c:
                    while True:
                        batch = _next_batch(study, loaded)
                        if not batch:
                            break
                        _run_batch(c, base, study, loaded, out, batch)
                        ran += len(batch)
                        if progress:
                            _progress(study, loaded)
                        if ctrl_c.is_set():  # a Ctrl-C whose KeyboardInterrupt a finaliser swallowed
                            raise KeyboardInterrupt
            finally:
                base.release()
        files = _write_results(out, study, loaded)
    table = load_trials(out)
    done = table[table["state"] == "complete"]
    best = done.loc[done["loss"].idxmin()] if len(done) else None
    best_fields = {f.field: _py(best[f.column]) for f in loaded.spec.fields} if best is not None else {}
    return CalibrationReport(out, cid, ran, len(done), int((table["state"] == "fail").sum()),
                             int(best["trial"]) if best is not None else None,
                             float(best["loss"]) if best is not None else None, best_fields, resumed, files,
                             time.perf_counter() - t0)


# --- checks and the folder ------------------------------------------------------------------------

def check_outputs(loaded: LoadedCalibration) -> None:
    """Run the base scenario for a day or two in this process and compute every target's model output,
    so a column, filter or label the model does not have is named before anything runs."""
    import twin
    days = min(2, loaded.days)
    res = twin.run(loaded.base, days=days, seed=0, source=str(loaded.base_path))
    for j, t in enumerate(loaded.spec.targets):
        where = f"targets[{j}]"
        try:
            table_frame(res.tables[t.model.table], t.model, ["t_day" if k == "date" else k for k in t.by])
            model_output(res.tables, t)
        except KeyError as err:
            missing = str(err.args[0]) if err.args else str(err)
            column = missing.split("'")[1] if "'" in missing else ""
            field = next((f"{where}.model.{name}" for name, v in (("column", t.model.column), ("per", t.model.per),
                                                                  ("weight", t.model.weight)) if v == column),
                         f"{where}.model.where" if column in t.model.where else f"{where}.by")
            raise ScenarioError(loaded.source, field, missing) from None
        except (ValueError, TypeError):
            raise ScenarioError(loaded.source, f"{where}.model", f"{t.model.column}"
                                f"{' / ' + t.model.per if t.model.per else ''} of the {t.model.table} table: "
                                "columns to add up must hold numbers (see `twin columns "
                                f"{t.model.table}`)") from None
        table = res.tables[t.model.table]
        labels = {k: _known_values(table, k) for k in t.labels}
        check_target_labels(loaded, t.name, {k: v for k, v in labels.items() if v is not None}, where,
                            [k for k, v in labels.items() if v is None])
        for col, allowed in t.model.where.items():
            values = allowed if isinstance(allowed, list) else [allowed]
            have = _known_values(table, col)
            unknown = [v for v in values if have is not None and str(v) not in have]
            if unknown:
                shown = ", ".join(sorted(have)[:12]) + (" ..." if len(have) > 12 else "")
                raise ScenarioError(loaded.source, f"{where}.model.where.{col}",
                                    f"{unknown[0]!r} is not in the {t.model.table} table's {col} (it has: {shown})")


def _known_values(table: pa.Table, column: str) -> set[str] | None:
    """Every value a label column can take (its dictionary: all kinds, statuses, categories ... even
    those a short run never shows), or None for a column without one (not checked)."""
    col = table.column(column)
    if not pa.types.is_dictionary(col.type) or not col.num_chunks:
        return None
    return {str(v) for chunk in col.chunks for v in chunk.dictionary.to_pylist()}


def _check_folder(out: Path, cid: str) -> bool:
    """True if ``out`` holds this calibration (resume); False if it is new; else a one-line error."""
    if not out.exists():
        return False
    if not out.is_dir():
        raise ScenarioError(str(out), "--out", "exists and is not a folder; choose a new folder for the calibration")
    if not (out / "manifest.json").exists():
        if any(out.iterdir()):
            raise ScenarioError(str(out), "--out", "exists and is not a calibration folder; choose a new folder")
        raise ScenarioError(str(out), "--out", "is an empty folder; give a new folder (twin creates it)")
    manifest = read_json(out / "manifest.json", "calibration manifest")
    if manifest.get("kind") != KIND:
        raise ScenarioError(str(out), "--out", "holds something else (its manifest.json is not a calibration's); "
                                               "choose a new folder")
    if manifest.get("calibration_id") != cid:
        raise ScenarioError(str(out), "--out", f"holds another calibration ({manifest.get('calibration_id')}: another "
                                               "file, base scenario or targets); choose a new folder or delete it")
    if not (out / JOURNAL).is_file():
        raise ScenarioError(str(out / JOURNAL), "", "missing: the study cannot be resumed; delete the folder and "
                                                    "calibrate again")
    return True


def _write_new(out: Path, loaded: LoadedCalibration, cid: str) -> None:
    from twin import __version__
    spec = loaded.spec
    manifest = {"kind": KIND, "calibration_id": cid, "version": __version__, "name": spec.name,
                "description": spec.description, "source": loaded.source, "base_scenario": str(loaded.base_path),
                "start_date": loaded.base["run"]["start_date"], "days": loaded.days, "root_seed": spec.root_seed,
                "seed_rule": "SeedSequence(root_seed, spawn_key=(0, replicate)): every trial runs the same seeds",
                "fields": [{"field": f.field, "column": f.column, "low": f.low, "high": f.high, "log": f.log,
                            "integer": loaded.integer[f.field]} for f in spec.fields],
                "targets": [t.model_dump(mode="json") for t in spec.targets],
                "spec": spec.model_dump(mode="json", exclude_none=True),
                "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    with atomic_dir(out) as tmp:
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
        (tmp / "base_scenario.json").write_text(json.dumps(loaded.base, indent=1))
        (tmp / "calibration.toml").write_text(loaded.text)
        pq.write_table(_targets_table(loaded, cid), tmp / "targets.parquet", compression="zstd")
        (tmp / OUTPUTS).mkdir()
        _open_study(tmp, cid)  # the journal exists from the start: a folder without one is damaged


def _targets_table(loaded: LoadedCalibration, cid: str) -> pa.Table:
    rows = [_long(name, frame) for name, frame in loaded.targets.items()]
    frame = pd.concat(rows, ignore_index=True)
    return make_table(_long_columns(frame), {"calibration_id": cid, "table": "targets"})


def _long_columns(frame: pd.DataFrame) -> dict[str, pa.Array]:
    """Arrow columns of a long frame (null t_day and label where a target has none)."""
    cols = {c: pa.array([None if pd.isna(v) else v for v in frame[c]], type=_LONG_TYPES[c]) for c in _LONG_TYPES}
    if "replicate" in frame.columns:
        cols["replicate"] = pa.array(frame["replicate"].to_numpy(np.int64))
    return cols


_LONG_TYPES = {"target": pa.string(), "t_day": pa.int64(), "label": pa.string(), "value": pa.float64()}


def _long(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A target or model frame in the long form of the folder's tables: target, t_day (or null), label, value."""
    labels = [c for c in frame.columns if c not in ("t_day", "value")]
    label = frame[labels].astype(str).agg("/".join, axis=1) if labels else pd.Series([None] * len(frame), dtype=object)
    t_day = frame["t_day"].astype(object) if "t_day" in frame.columns else pd.Series([None] * len(frame), dtype=object)
    return pd.DataFrame({"target": name, "t_day": t_day.to_numpy(), "label": label.to_numpy(),
                         "value": frame["value"].to_numpy(float)})


# --- the study ------------------------------------------------------------------------------------

def _optuna():
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _open_study(folder: Path, cid: str):
    optuna = _optuna()
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock
    path = str(folder / JOURNAL)
    storage = JournalStorage(JournalFileBackend(path, lock_obj=JournalFileOpenLock(path)))
    return optuna.create_study(study_name=cid, storage=storage, direction="minimize", load_if_exists=True)


def repair_journal(path: Path) -> bool:
    r"""Cut a last line a killed writer left half-written from the study's journal, and remove the
    journal's lock file it left (call with the folder's lock held: no other writer is alive).
    Returns whether anything was cut.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "study.journal"
    >>> _ = p.write_bytes(b'{"op_code": 0}\n{"op_co')
    >>> repair_journal(p), p.read_bytes()
    (True, b'{"op_code": 0}\n')
    """
    Path(f"{path}.lock").unlink(missing_ok=True)
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return False
    with open(path, "r+b") as f:
        f.truncate(data.rfind(b"\n") + 1)
    return True


def _sampler(loaded: LoadedCalibration, trial_number: int):
    """The sampler proposing trial ``trial_number``: seeded from the root seed and the trial's number."""
    optuna = _optuna()
    ss = np.random.SeedSequence(loaded.spec.root_seed, spawn_key=(1, int(trial_number)))
    seed = int(ss.generate_state(1, np.uint32)[0])
    if loaded.spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=loaded.spec.startup_trials, multivariate=True,
                                          constant_liar=True)


def _suggest(trial, loaded: LoadedCalibration) -> dict[str, Any]:
    """The trial's field values (``{field: value}``), proposed now or, for a resumed trial, as given before."""
    values = {}
    for f in loaded.spec.fields:
        if loaded.integer[f.field]:
            values[f.field] = trial.suggest_int(f.column, int(f.low), int(f.high), log=f.log)
        else:
            values[f.field] = trial.suggest_float(f.column, f.low, f.high, log=f.log)
    return values


def _next_batch(study, loaded: LoadedCalibration) -> list[tuple[Any, dict[str, Any]]]:
    """The trials to run next: those proposed but never scored (an interrupted batch), then new ones
    up to ``batch`` at a time while the study has fewer than ``trials``."""
    _optuna()
    from optuna.trial import Trial, TrialState
    existing = study.get_trials(deepcopy=False)
    batch = []
    for ft in existing:
        if ft.state == TrialState.RUNNING and len(batch) < loaded.spec.batch:
            study.sampler = _sampler(loaded, ft.number)
            trial = Trial(study, ft._trial_id)
            batch.append((trial, _suggest(trial, loaded)))
    n = len(existing)
    while len(batch) < loaded.spec.batch and n < loaded.spec.trials:
        study.sampler = _sampler(loaded, n)
        trial = study.ask()
        batch.append((trial, _suggest(trial, loaded)))
        n += 1
    return batch


def _run_batch(client: Any, base: Any, study, loaded: LoadedCalibration, out: Path,
               batch: Sequence[tuple[Any, dict[str, Any]]]) -> None:
    """Run every replicate of every trial of the batch on the cluster; score and record them in trial order."""
    from distributed import wait
    spec = loaded.spec
    futures = {}
    for trial, values in batch:
        for r in range(spec.replicates):
            futures[(trial.number, r)] = client.submit(
                run_replicate, base, values, spec.root_seed, r, loaded.days, list(spec.targets), trial.number,
                pure=False, key=f"calibrate-{trial.number}-{r}-{os.urandom(4).hex()}")
    try:
        wait(list(futures.values()))
        results = {k: _result(f) for k, f in futures.items()}
    except KeyboardInterrupt:
        client.cancel(list(futures.values()), force=True)
        raise
    finally:
        for f in futures.values():
            f.release()
    for trial, values in sorted(batch, key=lambda tv: tv[0].number):
        reps = [results[(trial.number, r)] for r in range(spec.replicates)]
        _score(study, trial, values, reps, loaded, out)


def _result(future) -> dict:
    try:
        return future.result()
    except Exception as err:  # the task itself failed (its workers kept dying ...): the trial fails
        return {"error": f"{type(err).__name__}: {' '.join(str(err).split())}"[:500], "seconds": 0.0}


def run_replicate(base: Mapping[str, Any], values: Mapping[str, Any], root_seed: int, replicate: int, days: int,
                  targets: Sequence[Target], trial: int = 0) -> dict:
    """One run of a trial (on a worker): ``{"outputs": {target: frame}, "seconds": s}`` or ``{"error": text}``.

    A run that raises is data (the trial fails with its message), not the end of the calibration.
    """
    import twin
    from twin.sweep.seeds import run_seed
    t0 = time.perf_counter()
    try:
        res = twin.run(base, seed=run_seed(root_seed, 0, replicate), days=days, overrides=dict(values),
                       source=f"trial {trial}")
        seconds = time.perf_counter() - t0
        outputs = {t.name: model_output(res.tables, t) for t in targets}
    except Exception as err:  # noqa: BLE001 - a failed run is data
        message = " ".join(str(err).split()) or type(err).__name__
        return {"error": f"{type(err).__name__}: {message}"[:500], "traceback": traceback.format_exc(),
                "seconds": time.perf_counter() - t0}
    finally:
        gc.collect()  # see twin.sweep.task.run_chunk: a run leaves reference cycles holding its arrays
    return {"outputs": outputs, "seconds": seconds}


def _score(study, trial, values: Mapping[str, Any], reps: list[dict], loaded: LoadedCalibration, out: Path) -> None:
    """The trial's loss from its replicates; its outputs file is written before the study is told."""
    from optuna.trial import TrialState
    seconds = float(sum(r.get("seconds", 0.0) for r in reps))
    errors = [r["error"] for r in reps if "error" in r]
    trial.set_user_attr("seconds", seconds)
    if errors:
        trial.set_user_attr("error", errors[0])
        study.tell(trial, state=TrialState.FAIL)
        return
    losses: dict[str, float] = {}
    rows = []
    try:
        for t in loaded.spec.targets:
            keys = ["t_day" if k == "date" else k for k in t.by]
            frames = [r["outputs"][t.name] for r in reps]
            for i, f in enumerate(frames):
                rows.append(_long(t.name, f).assign(replicate=i))
            obs, mod = align(loaded.targets[t.name], replicate_mean(frames, keys), keys)
            losses[t.name] = target_error(obs, mod, t.metric, t.normalise)
    except MissingOutput as err:
        trial.set_user_attr("error", f"target {t.name}: {err}")
        study.tell(trial, state=TrialState.FAIL)
        return
    table = pd.concat(rows, ignore_index=True)
    meta = {"calibration_id": study.study_name, "table": "outputs", "trial": trial.number}
    write_parquet_atomic(make_table(_long_columns(table), meta), out / OUTPUTS / f"trial_{trial.number:06d}.parquet")
    for name, v in losses.items():
        trial.set_user_attr(f"loss_{name}", v)
    loss = total_loss(losses, loaded.spec.targets)
    if not math.isfinite(loss):
        trial.set_user_attr("error", "the loss is not a finite number")
        study.tell(trial, state=TrialState.FAIL)
        return
    study.tell(trial, loss)


# --- results ---------------------------------------------------------------------------------------

def trials_frame(study, loaded: LoadedCalibration) -> pd.DataFrame:
    """One row per trial: trial, state, loss, loss_<target>, the fields' values, seconds, error, finished."""
    rows = []
    for ft in study.get_trials(deepcopy=False):
        row = {"trial": ft.number, "state": ft.state.name.lower(),
               "loss": ft.value if ft.value is not None else np.nan}
        for t in loaded.spec.targets:
            row[f"loss_{t.name}"] = ft.user_attrs.get(f"loss_{t.name}", np.nan)
        for f in loaded.spec.fields:
            row[f.column] = ft.params.get(f.column, np.nan)
        row["seconds"] = ft.user_attrs.get("seconds", np.nan)
        row["error"] = ft.user_attrs.get("error", "")
        row["finished"] = ft.datetime_complete.isoformat(timespec="seconds") if ft.datetime_complete else ""
        rows.append(row)
    return pd.DataFrame(rows)


def load_trials(folder: str | Path) -> pd.DataFrame:
    """The ``trials.parquet`` of a calibration folder as a DataFrame."""
    return pq.read_table(Path(folder) / "trials.parquet").to_pandas()


def _write_results(out: Path, study, loaded: LoadedCalibration) -> tuple[Path, ...]:
    """trials.parquet, best.json, best.toml and fit.png (each written whole)."""
    frame = trials_frame(study, loaded)
    meta = {"calibration_id": study.study_name, "table": "trials"}
    cols = {}
    whole = {f.column for f in loaded.spec.fields if loaded.integer[f.field]}
    for c in frame.columns:
        if c == "trial":
            cols[c] = pa.array(frame[c].to_numpy(np.int64))
        elif c in ("state", "error", "finished"):
            cols[c] = pa.array(frame[c].astype(str).tolist(), pa.string())
        elif c in whole:
            cols[c] = pa.array([None if pd.isna(v) else int(v) for v in frame[c]], pa.int64())
        else:
            cols[c] = pa.array(frame[c].to_numpy(float))
    files = [out / "trials.parquet"]
    write_parquet_atomic(make_table(cols, meta), files[0])
    done = frame[frame["state"] == "complete"]
    if done.empty:
        return tuple(files)
    best = done.loc[done["loss"].idxmin()]
    fields = {f.field: _py(best[f.column]) for f in loaded.spec.fields}
    fields = {k: int(v) if loaded.integer[k] else float(v) for k, v in fields.items()}
    summary = {"calibration_id": study.study_name, "trial": int(best["trial"]), "loss": float(best["loss"]),
               "losses": {t.name: float(best[f"loss_{t.name}"]) for t in loaded.spec.targets},
               "fields": fields, "set": dict(loaded.spec.set),
               "run": {"days": loaded.days, "seeds": "SeedSequence(root_seed, spawn_key=(0, replicate))",
                       "root_seed": loaded.spec.root_seed, "replicates": loaded.spec.replicates},
               "twin_set": " ".join(f"--set {k}={_toml_value(v)}" for k, v in {**loaded.spec.set, **fields}.items())}
    with atomic_file(out / "best.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=1))
    with atomic_file(out / "best.toml") as tmp:
        tmp.write_text(best_toml(loaded, fields, out, int(best["trial"]), float(best["loss"])))
    from twin.calibrate.fitplot import fit_figure
    fig = fit_figure(out, loaded, int(best["trial"]))
    with atomic_file(out / "fit.png") as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    files += [out / "best.json", out / "best.toml", out / "fit.png"]
    return tuple(files)


def best_toml(loaded: LoadedCalibration, fields: Mapping[str, Any], out: Path, trial: int, loss: float) -> str:
    """A scenario file extending the base with the calibration's ``set`` and the best fields.

    Fields inside a list (``shocks[0].factor``) carry the whole list (a file that extends another
    replaces lists whole), taken from the base file with the values set.
    """
    from twin.scenario import set_field
    data = loaded.base_raw
    for k, v in fields.items():
        data = set_field(data, k, v)
    top: dict[str, Any] = {}
    if loaded.spec.days is not None:
        top["run"] = {"days": loaded.spec.days}
    for key in [*loaded.spec.set, *fields]:
        name = re.split(r"[.\[]", key)[0]
        if "[" in key:                   # inside a list: the whole top-level table or list
            top[name] = data[name]
        else:
            parts = key.split(".")
            node = top
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            src = data
            for p in parts:
                src = src[p]
            node[parts[-1]] = src
    base = os.path.relpath(Path(loaded.base_path).absolute(), Path(out).absolute())
    name = f"{loaded.spec.name}_best"
    lines = [f"# The best trial ({trial}, loss {loss:.6g}) of calibration {loaded.spec.name}: written by twin calibrate.",
             f"# Its loss is that of the mean over seeds {_seed_text(loaded)}; twin run {Path(out) / 'best.toml'}", "",
             f"extends = {_toml_value(base)}", f"name = {_toml_value(name)}"]
    lines += _toml_tables(top, [])
    return "\n".join(lines) + "\n"


def _seed_text(loaded: LoadedCalibration) -> str:
    return f"SeedSequence({loaded.spec.root_seed}, spawn_key=(0, r)), r < {loaded.spec.replicates}"


def _toml_tables(data: Mapping[str, Any], path: list[str]) -> list[str]:
    """TOML for nested tables (scalars first, then sub-tables, then arrays of tables)."""
    lines: list[str] = []
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict) and not _is_table_list(v)}
    if path and scalars:
        lines += ["", f"[{'.'.join(_toml_key(p) for p in path)}]"]
    elif path and not scalars and not any(isinstance(v, dict) for v in data.values()) and not data:
        lines += ["", f"[{'.'.join(_toml_key(p) for p in path)}]"]
    for k, v in scalars.items():
        lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    for k, v in data.items():
        if isinstance(v, dict):
            lines += _toml_tables(v, [*path, k])
    for k, v in data.items():
        if _is_table_list(v):
            for item in v:
                lines += ["", f"[[{'.'.join(_toml_key(p) for p in [*path, k])}]]"]
                lines += [f"{_toml_key(a)} = {_toml_value(b)}" for a, b in item.items()]
    return lines


def _is_table_list(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _toml_key(k: str) -> str:
    return k if re.match(r"^[A-Za-z0-9_-]+$", k) else json.dumps(k)


def _toml_value(v: Any) -> str:
    """A TOML value (inline tables for tables inside arrays of tables).

    >>> _toml_value([1, 2.5, "a", True])
    '[1, 2.5, "a", true]'
    """
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(a)} = {_toml_value(b)}" for a, b in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _progress(study, loaded: LoadedCalibration) -> None:
    from optuna.trial import TrialState
    trials = study.get_trials(deepcopy=False)
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    failed = sum(t.state == TrialState.FAIL for t in trials)
    best = min(done, key=lambda t: t.value) if done else None
    line = f"trial {len(trials)}/{loaded.spec.trials}: {len(done)} scored, {failed} failed"
    if best is not None:
        line += f"; best {best.number} loss {best.value:.4g} (" + ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in best.params.items()) + ")"
    print(line, file=sys.stderr, flush=True)


@contextlib.contextmanager
def _use_client(client: Any, workers: int | None, scheduler: str | None) -> Iterator[Any]:
    if client is not None:
        yield client
        return
    from twin.sweep.runner import open_client
    from twin.allocator import memory_state
    from twin.sweep.workerenv import worker_warning
    with open_client(workers, scheduler) as c:
        try:
            message = worker_warning(c.run(memory_state))
        except Exception:  # a worker that cannot answer is no reason to stop (as in twin sweep run)
            message = None
        if message:
            print(f"warning: {message}", file=sys.stderr)
        yield c


def _identity(x: Any) -> Any:
    return x
