"""Build a report: read the runs, draw the figures, write ``FILE.html`` and ``FILE_figures/*.png``."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence, TextIO

from twin.metrics._common import MetricSettings
from twin.recording.writer import atomic_dir, atomic_file, clean_stale, folder_lock
from twin.report import sections as sec
from twin.report.figures import FIGURES, png_bytes
from twin.report.html import img, page, section
from twin.report.progress import progress
from twin.report.runs import RunData, attach_baseline, load_run, run_labels

__all__ = ["build_report", "check_report_target", "default_out"]

_NOTES = {"workforce": "workforce.parquet", "prices": "prices.parquet", "stock_by_tier": "nodes.parquet",
          "cascade": "nodes.parquet"}


def default_out(paths: Sequence[Path]) -> Path:
    """``RUN_DIR/report.html`` for one run, ``./report.html`` for several."""
    return Path(paths[0]) / "report.html" if len(paths) == 1 else Path("report.html")


def build_report(paths: Sequence[str | Path], out: str | Path | None = None, *, baseline: str | Path | None = None,
                 settings: MetricSettings = MetricSettings(), show_progress: bool = True,
                 stream: TextIO | None = None) -> Path:
    """Write the report of the runs in ``paths`` (overlaid when several) to ``out`` and the figures,
    as PNG files, to ``<out stem>_figures/``; return the HTML path.

    ``baseline`` is the comparison run for adaptability (the same shock with no switch); it is
    drawn and tabled with the others.
    """
    paths = [Path(p) for p in paths]
    out = Path(out) if out is not None else default_out(paths)
    check_report_target(out)
    with folder_lock(out, "twin report"):
        clean_stale(out)
        clean_stale(out.with_name(f"{out.stem}_figures"))
        return _build(paths, out, baseline, settings, show_progress, stream)


def _build(paths: list[Path], out: Path, baseline, settings: MetricSettings, show_progress: bool,
           stream: TextIO | None) -> Path:
    all_paths = paths + ([Path(baseline)] if baseline is not None and Path(baseline) not in paths else [])
    labels = run_labels(all_paths)
    runs = [_load(p, lab, settings, "C0")
            for p, lab in progress(list(zip(all_paths, labels)), "report: reading runs",
                                   enabled=show_progress, stream=stream)]
    patterns = list(dict.fromkeys(r.pattern for r in runs))
    for run in runs:                      # one colour per pattern: its seeds are drawn alike
        run.color = f"C{patterns.index(run.pattern) % 10}"
    base = next((r for r in runs if baseline is not None and r.path == Path(baseline)), None)
    if base is not None:
        attach_baseline(runs, base, settings)
    pngs: dict[str, bytes | None] = {}
    for name, _title, draw in progress(FIGURES, "report: drawing figures", enabled=show_progress, stream=stream):
        fig = draw(runs, settings)
        pngs[name] = png_bytes(fig) if fig is not None else None
    html_text = page(f"twin report: {', '.join(r.label for r in runs)}", _sections(runs, base, pngs, settings),
                     "Resilience of the city's food supply, read on what people eat (fill of need = consumed / "
                     "need): how far it fell, how fast it failed and recovered, who went without, and what made "
                     "the difference.")
    _write(out, html_text, {k: v for k, v in pngs.items() if v is not None})
    return out


def _load(path: Path, label: str, settings: MetricSettings, color: str) -> RunData:
    """A run folder's data; a folder whose tables are not a run's is one line, not a traceback."""
    import pyarrow as pa
    from twin.scenario import ScenarioError
    try:
        return load_run(path, label, settings, color)
    except (KeyError, ValueError, TypeError, OSError, pa.ArrowException) as err:
        raise ScenarioError(str(path), "", f"cannot read this run folder's tables ({type(err).__name__}: "
                                           f"{(str(err).splitlines() or [''])[0][:120]}); run `twin run` again") from None


def _sections(runs: list[RunData], base: RunData | None, pngs: dict[str, bytes | None],
              settings: MetricSettings) -> list[tuple[str, str, str]]:
    out = [("runs", "Runs", section("runs", "Runs", [sec.runs_table(runs)])),
           ("headline", "Headline metrics", section("headline", "Headline metrics", [sec.headline(runs)]))]
    extra = {"service": [sec.episodes_html(runs, settings)], "fairness": [sec.requests_html(runs)]}
    out[1] = ("headline", "Headline metrics", section("headline", "Headline metrics", sec.headline_parts(runs)))
    for name, title, _ in FIGURES:
        body = [img(pngs[name], title)] if pngs[name] else [
            f"<p class='note'>Not in these runs (no {_NOTES.get(name, name)}).</p>"]
        out.append((name, title, section(name, title, body + extra.get(name, []))))
    adapt = sec.adaptability_section(runs, base, settings)
    out.append(("adaptability", "Adaptability",
                section("adaptability", "Adaptability: regime switches and policy changes", adapt)))
    diff = sec.differences(runs, base)
    if diff:
        out.append(("comparison", "Comparison", section("comparison", diff[0], diff[1:])))
    out.append(("events", "Shocks and switches", section("events", "Shocks and switches", sec.events_section(runs))))
    out.append(("metrics", "All metrics", section("metrics", "All metrics", [sec.all_metrics(runs)])))
    return out


def check_report_target(out: Path) -> None:
    """A report replaces only an HTML file and a figures folder of PNG files (what it writes); anything
    else at ``out`` or ``<stem>_figures`` is refused before any run is read."""
    from twin.scenario import ScenarioError
    if out.suffix.lower() not in (".html", ".htm"):
        raise ScenarioError(str(out), "--out", "a report is an HTML file: give a name ending in .html")
    if out.exists() and not out.is_file():
        raise ScenarioError(str(out), "--out", "exists and is not a file; choose another --out")
    fig_dir = out.with_name(f"{out.stem}_figures")
    if fig_dir.exists():
        if not fig_dir.is_dir():
            raise ScenarioError(str(fig_dir), "--out", "exists and is not a figures folder; choose another --out")
        foreign = sorted(p.name for p in fig_dir.iterdir() if p.suffix != ".png")
        if foreign:
            raise ScenarioError(str(fig_dir), "--out", f"holds files a report did not write ({', '.join(foreign[:3])});"
                                                       " choose another --out")


def _write(out: Path, html_text: str, pngs: dict[str, bytes]) -> None:
    """Write the figures folder and the HTML, each replaced whole (temporary sibling, then rename)."""
    with atomic_dir(out.with_name(f"{out.stem}_figures")) as tmp_dir:
        for name, png in pngs.items():
            (tmp_dir / f"{name}.png").write_bytes(png)
    with atomic_file(out) as tmp:
        tmp.write_text(html_text, encoding="utf-8")
