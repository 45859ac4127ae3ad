"""The ``twin`` command line.

Exit status: 0 success, 2 bad input (one line on stderr naming file, field and what is
allowed; nothing written), 1 unexpected failure.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from twin.cliargs import nonneg_int, pos_int
from twin.progress import add_progress_arguments

__all__ = ["main"]

#: modules that add subcommands: each has ``register(subparsers)``; handlers set ``func``
_COMMAND_MODULES: list[str] = ["twin.compare", "twin.report.cli", "twin.sweep.cli", "twin.scenario.edit",
                               "twin.recording.columns", "twin.calibrate.cli"]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``twin`` console script.

    A user's mistake gets one line on stderr and exit 2; a bug gets one line saying so and where the
    full traceback was written, exit 1. No traceback is ever shown.
    """
    from twin.scenario import ScenarioError
    try:
        args = _parser().parse_args(argv)
        return args.func(args)
    except _UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ScenarioError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except MemoryError:
        print("error: out of memory: the scenario is too big for this machine; run a smaller city or fewer days",
              file=sys.stderr)
        return 1
    except Exception as err:  # noqa: BLE001 - anything else is a bug in twin, reported in one line
        where = _write_traceback(argv)
        first = (str(err).splitlines() or [""])[0][:200]
        print(f"error: internal error in {_version()} (a bug, not your input): {type(err).__name__}: {first}; "
              f"full traceback in {where}; please report it", file=sys.stderr)
        return 1


class _UsageError(Exception):
    """A command line argparse rejects: reported in one line by :func:`main`."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line (``error: twin run: ...``), not usage and a message."""

    def error(self, message: str):  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message} (see `{self.prog} --help`)")


def _write_traceback(argv: list[str] | None) -> str:
    """Write the current exception's traceback to a file in the temporary folder; return its path."""
    import datetime as dt
    import os
    import tempfile
    import traceback
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(tempfile.gettempdir()) / f"twin-crash-{stamp}-{os.getpid()}.txt"
    try:
        path.write_text(f"{_version()}\nargs: {sys.argv[1:] if argv is None else argv}\n\n{traceback.format_exc()}")
    except OSError:
        return "(nowhere: the temporary folder is not writable)"
    return str(path)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="twin", description="Digital twin of a megacity's food supply under shocks.")
    p.add_argument("--version", action="version", version=_version())
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run a scenario and write a run folder of Parquet tables")
    r.add_argument("scenario", type=Path)
    r.add_argument("--out", type=Path, help="run folder (default: results/<scenario name>)")
    r.add_argument("--seed", type=nonneg_int, help="root seed (default: the scenario's run.seed)")
    r.add_argument("--days", type=pos_int, help="simulated days (default: the scenario's run.days)")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a scenario field, e.g. --set city.population=100000 (TOML value)")
    add_progress_arguments(r)
    r.set_defaults(func=_cmd_run)

    v = sub.add_parser("validate", help="check scenario files and exit (0 all valid, 2 any invalid)")
    v.add_argument("scenario", type=Path, nargs="+")
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE")
    v.set_defaults(func=_cmd_validate)
    f = sub.add_parser("fields", help="list every scenario field with its default and source")
    f.add_argument("prefix", nargs="?", default="", help="only fields whose path starts with this, e.g. epidemic")
    f.add_argument("--json", action="store_true", help="print JSON lines")
    f.set_defaults(func=_cmd_fields)
    for module in _COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return p


def _cmd_run(args: argparse.Namespace) -> int:
    from twin.api import run_to_folder
    from twin.preflight import check_days_seed
    from twin.scenario import load_scenario
    overrides = _parse_overrides(args.overrides, str(args.scenario))
    sc = load_scenario(args.scenario, overrides)
    check_days_seed(sc, args.days, args.seed, str(args.scenario))
    scenario_file = str(args.scenario.resolve())
    if args.out is not None:
        out, same_source = args.out, None
    else:
        out = default_out(args.scenario, sc, overrides, args.seed, args.days)
        same_source = scenario_file if out.name == sc.name else None
    result, replaced = run_to_folder(sc, out, seed=args.seed, days=args.days, source=str(args.scenario),
                                     progress="none" if args.quiet else args.progress,
                                     scenario_file=scenario_file, same_source=same_source)
    from twin.summary_text import summary_lines
    if not args.quiet:
        print("\n".join(summary_lines(result.tables["summary"].to_pylist()[0], result.manifest, sc.name)))
    if replaced:
        print(f"replaced the earlier run in {out} ({replaced})")
    print(f"wrote {out}")
    return 0


def default_out(path: Path, sc, overrides: dict, seed: int | None, days: int | None) -> Path:
    """``results/<name>`` for the scenario file as written; ``results/<name>-<key>`` when ``--set``,
    ``--seed`` or ``--days`` change what runs (``key``: 8 hex digits of a hash of the resolved
    scenario, seed and days), so different inputs never share a default folder."""
    import hashlib
    from twin.scenario import ScenarioError, load_scenario, scenario_hash
    seed = sc.run.seed if seed is None else seed
    days = sc.run.days if days is None else days
    plain = sc
    if overrides:
        try:
            plain = load_scenario(path)
        except ScenarioError:  # the file alone does not validate: the run is not "as written"
            plain = None
    digest = scenario_hash(sc)
    if plain is not None and scenario_hash(plain) == digest and (seed, days) == (plain.run.seed, plain.run.days):
        return Path("results") / sc.name
    key = hashlib.sha256(f"{digest}:{seed}:{days}".encode()).hexdigest()[:8]
    return Path("results") / f"{sc.name}-{key}"


def _cmd_validate(args: argparse.Namespace) -> int:
    """Check each file (overrides apply to each); every invalid one gets its one-line error and the
    rest are still checked."""
    from twin.preflight import preflight
    from twin.scenario import ScenarioError, load_scenario
    status = 0
    for path in args.scenario:
        try:
            sc = load_scenario(path, _parse_overrides(args.overrides, str(path)))
            net, plans, _ = preflight(sc, str(path))
        except ScenarioError as err:
            print(f"error: {err}", file=sys.stderr)
            status = 2
            continue
        print(f"{path}: valid ({net.n_communities} communities, {net.n_nodes} nodes, "
              f"{len(net.link_src)} links, {len(sc.shocks)} shocks)")
    return status


def _cmd_fields(args: argparse.Namespace) -> int:
    import json
    from twin.scenario.describe import field_rows
    rows = [r for r in field_rows() if r["path"].startswith(args.prefix)]
    for r in rows:
        if args.json:
            print(json.dumps(r))
        else:
            default = json.dumps(r["default"]) if not isinstance(r["default"], str) else r["default"]
            if len(default) > 60:
                default = default[:57] + "..."
            print(f"{r['path']} = {default}  # {r['description']}" if r["description"] else f"{r['path']} = {default}")
    return 0


def _parse_overrides(items: list[str], source: str = "--set") -> dict:
    import tomllib
    from twin.scenario import ScenarioError
    out = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ScenarioError(source, f"--set {item}", "expected FIELD=VALUE")
        try:
            out[key] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            out[key] = raw  # a bare word is a string
    return out




def _version() -> str:
    from twin import __version__
    return f"twin {__version__}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
