"""Where the benchmarks write what they measured."""

import json
import os
from typing import Any


def write_json(path: str, results: dict[str, Any]) -> None:
    """
    Write a benchmark's results as indented JSON, creating the folder if needed.

    :param path: the ``--out`` file
    :param results: what the benchmark measured, with its command and versions
    """
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as file:
        json.dump(results, file, indent=2)
