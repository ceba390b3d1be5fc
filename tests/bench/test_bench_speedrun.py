"""`scripts/bench.py speedrun`: its code path on a tiny subset (figures, not accuracy)."""

import json

import numpy as np
import pytest

from zoo.bench import speedrun_bench as speedrun
import zoo.bench as bench


def test_speedrun_is_a_bench_suite():
    assert "speedrun" in bench.suites()


def test_speedrun_prints_and_writes_its_figures(tmp_path, capsys):
    out = tmp_path / "speedrun.json"
    code = speedrun.main(["--limit", "500", "--epochs", "1", "--batch-size", "100",
                          "--model-arg", "filters=(4,8,8)", "--json-out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    r = json.loads(out.read_text())
    assert (r["trained_on"], r["scored"], r["scored_images"]) == (500, "test", 500)
    assert r["model"] == speedrun.RECIPE["model"] and r["model_args"]["filters"] == [4, 8, 8]
    assert r["first_step_s"] > 0 and r["train_s"] > 0 and r["train_cpu_s"] >= 0
    assert r["tta"] and r["accuracy"] == r["accuracy_tta"]
    assert 0 <= r["accuracy_plain"] <= 1 and 0 <= r["accuracy_tta"] <= 1
    assert len(r["load_before"]) == len(r["load_after"]) == 3
    assert r["machine"]["nproc"] >= 1 and r["machine"]["cpu"]
    assert r["command"].startswith("python scripts/bench.py speedrun --limit 500 --epochs 1")
    assert f"test accuracy with flip TTA (mean softmax of the image and its horizontal " \
           f"mirror): {r['accuracy_tta']:.4f}" in printed
    assert f"{r['train_s']:.1f} s wall after the first step" in printed
    assert f"trace + compile: {r['first_step_s']:.1f} s" in printed
    assert "load average (1/5/15 min) before" in printed and "nproc" in printed
    assert "targets:" not in printed  # a --limit run is no speedrun


def test_holdout_is_seeded_disjoint_and_leaves_the_test_split_alone():
    kept, held = speedrun.holdout_indices(60000, 5000)
    assert len(held) == 5000 and not set(kept) & set(held)
    assert sorted([*kept, *held]) == list(range(60000))
    np.testing.assert_array_equal(held, speedrun.holdout_indices(60000, 5000)[1])
    train, scored, what = speedrun.splits(5000, None)
    assert (len(train[0]), len(scored[0])) == (55000, 5000) and what.startswith("holdout")


@pytest.mark.parametrize("argv,match", [
    (["--epochs", "0"], "--epochs"),
    (["--max-lr", "-1"], "--max-lr"),
    (["--label-smoothing", "1.5"], "--label-smoothing"),
    (["--holdout", "60000"], "--holdout"),
    (["--limit", "0"], "--limit"),
])
def test_bad_options_raise_before_training(argv, match):
    with pytest.raises(ValueError, match=match):
        speedrun.main(argv)
