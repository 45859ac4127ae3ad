"""Every number a scenario defaults to says where it comes from (``twin fields``)."""

from __future__ import annotations

from tests.conftest import run_cli
from twin.scenario.describe import field_rows


def test_every_numeric_default_has_a_description():
    missing = [r["path"] for r in field_rows()
               if isinstance(r["default"], (int, float)) and not isinstance(r["default"], bool) and not r["description"]]
    assert missing == []


def test_fields_command_lists_dotted_paths():
    proc = run_cli("fields", "workforce")
    assert proc.returncode == 0
    assert "workforce.parcels_per_courier_day = 100.0  # Seed paper: 100 parcels per courier per day." in proc.stdout
