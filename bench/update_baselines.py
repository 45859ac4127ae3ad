"""Rewrite the fixed-seed golden summaries in tests/baselines/ (the only script that may).

    python bench/update_baselines.py

Run it only when a change is meant to alter results, and say why in the commit message.
"""

from __future__ import annotations

import json
from pathlib import Path

import twin

ROOT = Path(__file__).resolve().parents[1]
BASELINES = {  # file -> (scenario, seed, days)
    "small_city_seed1.json": ("scenarios/tiny/small_city.toml", 1, 30),
    "one_of_each_seed1.json": ("scenarios/tiny/one_of_each.toml", 1, 20),
    "small_outbreak_seed1.json": ("scenarios/tiny/small_outbreak.toml", 1, 40),
}


def main() -> None:
    for name, (scenario, seed, days) in BASELINES.items():
        res = twin.run(ROOT / scenario, seed=seed, days=days)
        row = res.tables["summary"].to_pylist()[0]
        path = ROOT / "tests" / "baselines" / name
        path.write_text(json.dumps({"scenario": scenario, "seed": seed, "days": days, "summary": row},
                                   indent=2, sort_keys=True) + "\n")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
