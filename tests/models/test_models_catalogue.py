"""The catalogue (zoo/catalogue.json, docs/models.md) is the registry's, and `zoo list` /
`zoo info` answer from it without importing keras."""

import json
import os
import subprocess
import sys
from pathlib import Path

from zoo import catalogue

ROOT = Path(__file__).resolve().parents[2]


def test_the_index_and_the_model_table_are_up_to_date():
    built = catalogue.build()
    stale = "stale: run `python -m zoo.catalogue --write` and commit zoo/catalogue.json and " \
            "docs/models.md"
    assert catalogue.read() == built, stale
    assert catalogue.TABLE.read_text() == catalogue.table(built), stale


def _cli(*args):
    """(the finished `python -m zoo.cli ARGS`, the top-level packages it imported)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get(
        "PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "zoo.cli", *args],
                         capture_output=True, text=True, env=env, timeout=120)
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                for line in run.stderr.splitlines() if line.startswith("import time:")}
    return run, imported


def test_zoo_list_and_info_answer_from_the_index_without_keras():
    run, imported = _cli("list", "resnet*")
    assert run.returncode == 0 and run.stdout.split() == catalogue.list_models("resnet*")
    assert "zoo" in imported and not imported & {"keras", "tensorflow", "jax", "torch"}
    run, _ = _cli("list", "vgg1*", "nothing*", "resnet1??")  # several: the union, sorted
    assert run.returncode == 0 and run.stdout.split() == sorted(
        catalogue.list_models("vgg1*") + catalogue.list_models("resnet1??"))
    assert "'nothing*'" in run.stderr
    run, imported = _cli("info", "vgg19")
    assert run.returncode == 0, run.stderr
    info = json.loads(run.stdout)
    assert info["params"] == 143_667_240 and info["family"] == "vgg"
    assert info["weights"] == ["vgg19.imagenet"] and info["backend"]
    assert not imported & {"keras", "tensorflow", "jax", "torch"}
