"""The documentation site builds warning-free (``sphinx-build -W --keep-going -n``), its tables from the result files."""

import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
sys.path.insert(0, str(DOCS / "_ext"))


def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx", reason="the docs tools are the 'docs' extra: pip install '.[docs]' (scripts/test.sh does)")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-b", "html", "-q"]
    command += ["-d", str(tmp_path / "doctrees")]
    result = subprocess.run([*command, str(DOCS), str(tmp_path / "html")], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    index = (tmp_path / "html" / "index.html").read_text()
    assert "CartDQN" in index
    api = (tmp_path / "html" / "api.html").read_text()
    for module in ("sb3_cartdqn.cartdqn.cartdqn", "sb3_cartdqn.batched.trainer", "sb3_cartdqn.common.exploration"):
        assert module in api


def test_result_tables_come_from_the_result_files(tmp_path):
    import json

    import result_tables

    bench = json.loads((DOCS / "bench" / "bench.json").read_text())
    table = result_tables.render_speed_variants()
    assert f"{bench['median_ratios']['cartdqn time / kernel floor']:.2f}×" in table
    assert bench["command"].split("--steps")[1] in table
    written = result_tables.write_tables(tmp_path)
    assert {path.name for path in written} == {f"{name}.md" for name in result_tables.TABLES}


def test_ablation_ratios_are_the_printed_medians():
    import json

    import result_tables

    bench = json.loads((DOCS / "bench" / "bench.json").read_text())
    medians = bench["median_steps_per_s"]
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in result_tables.render_speed_ablations().splitlines()}
    for key, label in result_tables.ABLATIONS.items():
        undone = medians[f"cartdqn-without-{key}"]
        ratio = medians["cartdqn"] / undone
        cells = rows[label].strip("| ").split(" | ")
        assert cells[1] == result_tables._int(undone)
        assert cells[3] == f"{ratio:.2f}×"
        assert ("within noise" in cells[4]) == (ratio <= 1)


def test_every_module_has_its_place_in_the_api_reference():
    import pkgutil
    import re

    import sb3_cartdqn

    modules = {info.name for info in pkgutil.walk_packages(sb3_cartdqn.__path__, "sb3_cartdqn.")}
    modules -= {name for name in modules if name.endswith(".__main__")}
    pages = "".join(path.read_text() for path in (DOCS / "api").glob("*.rst"))
    documented = set(re.findall(r"^\.\. automodule:: (\S+)$", pages, re.M))
    assert modules - documented == set(), "add these modules to a page under docs/api/"
    assert documented - modules == set(), "these pages name modules that do not exist"
