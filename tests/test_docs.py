"""Every command and code block of the README and docs/ runs as written (tests/docs_runner.py).

Full-size cities are shrunk unless ``TWIN_DOCS_FULL=1`` (see the runner's docstring).
"""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from tests.docs_runner import blocks, run_document

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_blocks_are_found_with_their_skip_markers():
    text = "a\n\n```sh\necho 1\n```\n\n<!-- docs-test: skip needs a cluster -->\n```python\nx = 1\n```\n```\nout\n```\n"
    found = blocks(text)
    assert [(b.lang, b.code, b.skip) for b in found] == [("sh", "echo 1\n", None), ("python", "x = 1\n", "needs a cluster"),
                                                         ("", "out\n", None)]


def test_a_failing_block_names_the_document_and_line(tmp_path):
    doc = tmp_path / "failing.md"
    doc.write_text("# x\n\n```sh\ntwin run scenarios/nope.toml\n```\n")
    with pytest.raises(AssertionError, match=r"failing.md:3: the sh block failed \(exit 2\)"):
        run_document(doc, tmp_path / "work")


@pytest.mark.parametrize("doc", DOCS, ids=[p.name for p in DOCS])
def test_document_runs_as_written(doc, tmp_path):
    done = run_document(doc, tmp_path)
    ran = [b for b, what in done if what == "ran"]
    assert ran, f"{doc.name}: no block ran"
    for block, what in done:
        if block.lang in ("sh", "python", "sql") and what != "ran":
            assert what.startswith("skipped: ") and len(what) > len("skipped: ") + 5, (doc.name, block.line)
