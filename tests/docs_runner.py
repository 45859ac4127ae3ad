"""Run the code blocks of a Markdown document as a reader would, in order, in one folder.

Used by ``tests/test_docs.py`` (README, docs/*.md, the notebook). The rules, also in the README
("Testing the docs"):

- ```` ```sh ```` blocks run as one bash script (``set -e``) in the folder, where ``scenarios``
  and ``bench`` are the repository's, ``.venv/bin/twin`` and ``.venv/bin/python`` (and ``twin``,
  ``python`` on the ``PATH``) are the interpreter running the tests;
- ```` ```python ```` blocks run in one namespace per document (so later blocks see earlier ones);
- ```` ```sql ```` blocks run in DuckDB;
- other blocks (TOML files, output examples) are shown, not run;
- a block after ``<!-- docs-test: skip REASON -->`` is not run (installing, the test suite
  itself, benchmarks of minutes, a cluster, a browser).

Full-size cities take minutes, so unless ``TWIN_DOCS_FULL=1`` the ``twin`` of the folder adds
``--set city.population=$TWIN_DOCS_POPULATION`` (default 1,000,000) to ``twin run`` commands that
set no population (tiny scenarios excepted), with ``--out results/<name>`` where none is given (the
folder the documented command writes), and ``twin sweep plan`` plans a copy of the sweep
file cut to ``samples = 3`` (Morris; 4 otherwise), ``replicates = 1`` and 12 days. Both are printed on stderr.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(\w*)\s*$")
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\b(.*?)-->")


@dataclass
class Block:
    lang: str
    code: str
    line: int            # line of the opening fence (1-based)
    skip: str | None     # the reason, when marked skip


def blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown text, with their skip markers."""
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1).lower()
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        before = "\n".join(lines[max(0, start - 3):start])
        marks = SKIP.findall(before)
        out.append(Block(lang, "\n".join(lines[start + 1:j]) + "\n", start + 1,
                         marks[-1].strip() or "marked skip" if marks else None))
        i = j + 1
    return out


_TWIN = r'''#!{python}
"""twin as the docs test runs it (see tests/docs_runner.py)."""
import os, sys
from pathlib import Path

def _args():
    args = sys.argv[1:]
    if not os.environ.get("TWIN_DOCS_FULL"):
        if args[:1] == ["run"] and len(args) > 1 and "tiny" not in args[1] and not any("city.population" in a for a in args):
            pop = os.environ.get("TWIN_DOCS_POPULATION", "1000000")
            args += ["--set", f"city.population={{pop}}"]
            if "--out" not in args:   # a changed run's default folder has a key; keep the documented one
                from twin.scenario import ScenarioError, load_scenario
                try:
                    args += ["--out", str(Path("results") / load_scenario(args[1]).name)]
                except ScenarioError:
                    pass               # twin run itself says what is wrong
            print(f"docs-test: twin run ... --set city.population={{pop}}", file=sys.stderr)
        if args[:2] == ["sweep", "plan"] and len(args) > 2:
            import re
            src = Path(args[2]).resolve()
            text = src.read_text()
            # paths to scenario files (base, values of field = "scenario") are relative to the sweep file
            text = re.sub(r'"([^"\n]+\.toml)"', lambda m: f'"{{(src.parent / m.group(1)).resolve()}}"'
                          if (src.parent / m.group(1)).is_file() else m.group(0), text)
            head, sep, tail = text.partition("\n[")                 # top-level keys come before any table
            head = re.sub(r'(?m)^base\s*=\s*"(.*?)"', lambda m: f'base = "{{(src.parent / m.group(1)).resolve()}}"', head)
            head = re.sub(r"(?m)^replicates\s*=.*$", "replicates = 1", head)
            head = re.sub(r"(?m)^days\s*=.*$", "days = 12", head) if re.search(r"(?m)^days\s*=", head) else head + "\ndays = 12\n"
            n = 3 if re.search(r'(?m)^method\s*=\s*"morris"', tail) else 4     # sobol wants a power of 2
            tail = re.sub(r"(?m)^samples\s*=.*$", f"samples = {{n}}", tail)
            small = Path(".docs_test_sweeps") / src.name
            small.parent.mkdir(exist_ok=True)
            small.write_text(head + sep + tail)
            args[2] = str(small)
            print(f"docs-test: twin sweep plan of {{src.name}} cut to {{n}} samples, 1 replicate, 12 days", file=sys.stderr)
    return args


if __name__ == "__main__":   # worker processes (Dask) import this file again
    from twin.cli import main
    sys.exit(main(_args()))
'''


def prepare(folder: Path) -> dict[str, str]:
    """Make ``folder`` look like a checkout for the commands; return the environment to run them in."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("scenarios", "bench"):
        if not (folder / name).exists():
            (folder / name).symlink_to(ROOT / name, target_is_directory=True)
    bin_dir = folder / ".venv" / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    twin = bin_dir / "twin"
    twin.write_text(_TWIN.format(python=sys.executable))
    twin.chmod(0o755)
    for name in ("python", "python3"):
        if not (bin_dir / name).exists():
            (bin_dir / name).symlink_to(sys.executable)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env.get('PYTHONPATH', '')}"
    env.setdefault("MPLBACKEND", "Agg")
    return env


def run_sh(block: Block, folder: Path, env: dict[str, str], where: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", block.code], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=1800)
    if proc.returncode != 0:
        raise AssertionError(f"{where}: the sh block failed (exit {proc.returncode}):\n{block.code}\n"
                             f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}")
    return proc


def run_document(path: Path, folder: Path) -> list[tuple[Block, str]]:
    """Run every block of the document at ``path`` in ``folder``; return (block, what happened)."""
    env = prepare(folder)
    namespace: dict = {"__name__": f"docs_{path.stem}"}
    done = []
    cwd = os.getcwd()
    old_env = dict(os.environ)
    os.chdir(folder)
    os.environ.update({k: v for k, v in env.items() if k in ("PATH", "MPLBACKEND")})
    try:
        for block in blocks(path.read_text()):
            where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name}:{block.line}"
            if block.skip:
                done.append((block, f"skipped: {block.skip}"))
            elif block.lang in ("sh", "bash", "shell", "console"):
                run_sh(block, folder, env, where)
                done.append((block, "ran"))
            elif block.lang == "python":
                try:
                    exec(compile(textwrap.dedent(block.code), where, "exec"), namespace)
                except Exception as err:
                    raise AssertionError(f"{where}: the python block failed: {type(err).__name__}: {err}\n"
                                         f"{block.code}") from err
                done.append((block, "ran"))
            elif block.lang == "sql":
                import duckdb
                duckdb.sql(block.code).fetchall()
                done.append((block, "ran"))
            else:
                done.append((block, "shown"))
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(old_env)
    return done
