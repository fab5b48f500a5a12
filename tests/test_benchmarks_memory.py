"""The long-run memory benchmark's tiny mode (sb3_cartdqn/benchmarks/memory.py); the 1M-step run is in docs/reliability.md."""

import json

import pytest

from sb3_cartdqn.benchmarks.memory import main, read_memory_kib


def test_read_memory_from_proc():
    memory = read_memory_kib()
    assert 0 < memory["rss_kib"] <= memory["peak_rss_kib"]


def test_read_memory_names_missing_fields(tmp_path):
    status = tmp_path / "status"
    status.write_text("Name: python\n")
    with pytest.raises(RuntimeError, match="needs Linux /proc"):
        read_memory_kib(str(status))


def test_tiny_run_reports_and_buffer_stays_within_capacity(tmp_path):
    out = tmp_path / "bench.json"
    summary = main(["--steps", "600", "--report-every", "200", "--buffer-size", "250", "--quiet", "--out", str(out)])
    assert [r["timesteps"] for r in summary["reports"]] == [0, 200, 400, 600]
    assert summary["max_buffer_size"] == 250  # filled, then overwritten in place
    assert len(summary["buffer_bytes"]) == 1  # its storage never grew
    assert all(r["peak_rss_kib"] >= r["rss_kib"] > 0 for r in summary["reports"])
    assert json.loads(out.read_text())["steps"] == 600
