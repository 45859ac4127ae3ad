"""The README's examples run as written."""

from __future__ import annotations

import importlib.util
import re

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_the_property_test_example_runs(tmp_path):
    # a real module file, so that Hypothesis (which reads a test's source) sees the example's own code
    block = next(b for b in BLOCKS if "twin.testing" in b)
    path = tmp_path / "readme_property_example.py"
    path.write_text(block)
    spec = importlib.util.spec_from_file_location("readme_property_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tests = [v for k, v in vars(module).items() if k.startswith("test_") and callable(v)]
    assert tests
    for test in tests:
        test()


def test_the_pandas_example_runs(tmp_path, monkeypatch):
    import twin

    block = next(b for b in BLOCKS if "load_results" in b)
    twin.run(ROOT / "scenarios" / "tiny" / "small_city.toml", days=5, out=tmp_path / "results" / "shock")
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})


def test_readme_commands_name_real_files():
    for path in re.findall(r"scenarios/[\w/]+\.toml", README):
        if path != "scenarios/x.toml":   # the bad-input example
            assert (ROOT / path).exists(), path
