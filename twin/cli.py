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
                               "twin.recording.columns"]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``twin`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    from twin.scenario import ScenarioError
    try:
        return args.func(args)
    except ScenarioError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="twin", description="Digital twin of a megacity's food supply under shocks.")
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

    v = sub.add_parser("validate", help="check a scenario file and exit (0 valid, 2 invalid)")
    v.add_argument("scenario", type=Path)
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
    from twin.api import run
    from twin.scenario import load_scenario
    overrides = _parse_overrides(args.overrides)
    sc = load_scenario(args.scenario, overrides)
    out = args.out or Path("results") / sc.name
    result = run(sc, seed=args.seed, days=args.days, out=out, source=str(args.scenario),
                 progress="none" if args.quiet else args.progress)
    from twin.summary_text import summary_lines
    if not args.quiet:
        print("\n".join(summary_lines(result.tables["summary"].to_pylist()[0], result.manifest, sc.name)))
    print(f"wrote {out}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from twin.network import build_network
    from twin.processes.shocks import resolve_shocks
    from twin.scenario import load_scenario
    sc = load_scenario(args.scenario, _parse_overrides(args.overrides))
    net = build_network(sc, str(args.scenario))
    resolve_shocks(sc, net, str(args.scenario))
    print(f"{args.scenario}: valid ({net.n_communities} communities, {net.n_nodes} nodes, "
          f"{len(net.link_src)} links, {len(sc.shocks)} shocks)")
    return 0


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


def _parse_overrides(items: list[str]) -> dict:
    import tomllib
    from twin.scenario import ScenarioError
    out = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ScenarioError("--set", item, "expected FIELD=VALUE")
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
