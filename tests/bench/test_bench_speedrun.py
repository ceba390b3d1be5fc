"""`scripts/bench.py speedrun`: its code paths on tiny subsets (figures, not accuracy)."""

import json

import keras
import numpy as np
import pytest

from zoo.bench import speedrun_bench as speedrun
import zoo.bench as bench


def test_speedrun_is_a_bench_suite():
    assert "speedrun" in bench.suites()


def test_speedrun_prints_and_writes_its_figures_per_seed(tmp_path, capsys):
    out = tmp_path / "speedrun.json"
    code = speedrun.main(["--limit", "300", "--epochs", "1", "--batch-size", "100",
                          "--pct-start", "0.5", "--model-arg", "filters=(4,8,8)", "--seeds", "0,1",
                          "--json-out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    r = json.loads(out.read_text())
    assert (r["trained_on"], r["scored"], r["scored_images"]) == (300, "test", 300)
    assert r["model"] == speedrun.RECIPE["model"] and r["model_args"]["filters"] == [4, 8, 8]
    assert [run["seed"] for run in r["runs"]] == [0, 1]
    for run in r["runs"]:
        assert run["first_step_s"] > 0 and run["train_s"] > 0 and run["train_cpu_s"] >= 0
        assert run["accuracy"] == run["accuracy_by_tta"][speedrun.RECIPE["tta"]]
        assert 0 <= run["accuracy_plain"] <= 1 and len(run["load_before"]) == 3
        assert f"seed {run['seed']}: test accuracy {run['accuracy']:.4f}" in printed
        assert f"{run['train_s']:.1f} s wall after the first step" in printed
        assert f"trace + compile: {run['first_step_s']:.1f} s" in printed
    accs = [run["accuracy"] for run in r["runs"]]
    assert r["accuracy_min"] == min(accs) and r["accuracy_mean"] == pytest.approx(np.mean(accs))
    assert f"accuracy mean {r['accuracy_mean']:.4f}, min {r['accuracy_min']:.4f}" in printed
    assert r["machine"]["nproc"] >= 1 and r["machine"]["cpu"]
    assert r["command"].startswith("python scripts/bench.py speedrun --limit 300 --epochs 1")
    assert "load before" in printed and "nproc" in printed
    assert "targets:" not in printed  # a --limit run is no speedrun


def _run_recipe_briefly(target, tmp_path):
    """Every layer, option and the scoring of the `target` recipe, at an eighth of its widths
    and on a few small batches (a full-width step compiles for most of a minute on JAX)."""
    out = tmp_path / "speedrun.json"
    code = speedrun.main(["--target", target, "--limit", "200", "--epochs", "2",
                          "--batch-size", "50", "--model-arg", "width_multiplier=0.125",
                          "--json-out", str(out)])
    assert code == 0
    r = json.loads(out.read_text())
    recipe = speedrun.RECIPES[target]
    assert r["machine"]["backend"] == keras.backend.backend()
    assert r["model"] == recipe["model"] and r["recipe"]["precision"] == recipe["precision"]
    assert {k: r["model_args"][k] for k in recipe["model_args"]} == json.loads(
        json.dumps(recipe["model_args"]))
    assert r["target_seconds"] == recipe["seconds"] and r["trained_on"] == 200
    assert np.isfinite(r["runs"][0]["train_s"]) and 0 <= r["accuracy_min"] <= 1


@pytest.mark.jax
@pytest.mark.torch
def test_the_record_recipe_runs_a_few_steps_on_this_backend(tmp_path):
    _run_recipe_briefly("0.93", tmp_path)


def test_the_second_tier_recipe_runs_a_few_steps(tmp_path):
    # the same family and step as the record's (run on every backend above)
    _run_recipe_briefly("0.90", tmp_path)


def test_holdout_scores_every_tta_level(tmp_path):
    out = tmp_path / "speedrun.json"
    speedrun.main(["--holdout", "5000", "--limit", "300", "--epochs", "1", "--batch-size",
                   "100", "--pct-start", "0.5", "--model-arg", "filters=(4,8,8)",
                   "--json-out", str(out)])
    r = json.loads(out.read_text())
    assert r["scored"].startswith("holdout") and set(r["runs"][0]["accuracy_by_tta"]) == set(
        speedrun.TTA)


def test_tta_views_shift_by_one_pixel_and_weigh_one_in_all():
    x = np.arange(2 * 3 * 3).reshape(2, 3, 3, 1)
    view = {n: speedrun.tta_view(x, n)[0, :, :, 0].tolist()
            for w in speedrun.TTA_WEIGHTS.values() for n in w}
    assert view["image"] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert view["mirror"] == [[2, 1, 0], [5, 4, 3], [8, 7, 6]]
    assert view["down_right"] == [[0, 0, 0], [0, 0, 1], [0, 3, 4]]
    assert view["up_left"] == [[4, 5, 0], [7, 8, 0], [0, 0, 0]]
    assert view["up_left_mirror"] == [[0, 5, 4], [0, 8, 7], [0, 0, 0]]
    for weights in speedrun.TTA_WEIGHTS.values():
        assert sum(weights.values()) == pytest.approx(1.0)
    assert set(speedrun.TTA_WEIGHTS) == set(speedrun.TTA)


def test_holdout_is_seeded_disjoint_and_leaves_the_test_split_alone():
    kept, held = speedrun.holdout_indices(60000, 5000)
    assert len(held) == 5000 and not set(kept) & set(held)
    assert sorted([*kept, *held]) == list(range(60000))
    np.testing.assert_array_equal(held, speedrun.holdout_indices(60000, 5000)[1])
    train, scored, what = speedrun.splits(5000, None)
    assert (len(train[0]), len(scored[0])) == (55000, 5000) and what.startswith("holdout")


def test_profile_splits_a_step_into_its_parts(tmp_path, capsys):
    out = tmp_path / "profile.json"
    assert speedrun.main(["--profile", "--limit", "1500", "--batch-size", "250",
                          "--model-arg", "filters=(4,8,8)", "--json-out", str(out)]) == 0
    r = json.loads(out.read_text())
    assert set(r["parts_s"]) == set(speedrun.PROFILE_PARTS)
    assert r["parts_s"]["backward"] > 0 and r["parts_s"]["forward (with the loss)"] > 0
    assert r["parts_s"]["data pipeline"] > 0 and r["step_wall_s"] > 0
    printed = capsys.readouterr().out
    assert "| backward |" in printed and "host overhead" in printed


def test_backends_table_reports_rows_and_failures():
    result = {
        "recipe": dict(speedrun.RECIPE), "timed_images": 15000, "date": "2026-12-06",
        "machine": {"nproc": 2, "cpu": "cpu", "keras": "3"},
        "rows": [{"backend": "tensorflow", "precision": "float32", "version": "2", "ms_step": 40.0,
                  "cpu_ms_step": 45.0, "first_step_s": 2.0, "projected_s": 96.0, "load": 1.0,
                  "load_after": 1.5},
                 {"backend": "jax", "precision": "float32", "error": "boom\nValueError: x"}],
    }
    text = speedrun.report_backends(result)
    assert "| tensorflow 2 | float32 | 40.0 | 45.0 | 2.0 | 96 | 1.00 / 1.50 |" in text
    assert "| jax | float32 | failed: ValueError: x |" in text
    assert speedrun._strip(["--backends", "jax", "--epochs=3", "--max-lr", "0.1", "--profile"],
                           ("--backends", "--epochs", "--profile")) == ["--max-lr", "0.1"]


@pytest.mark.parametrize("argv,match", [
    (["--epochs", "0"], "--epochs"),
    (["--max-lr", "-1"], "--max-lr"),
    (["--label-smoothing", "1.5"], "--label-smoothing"),
    (["--ema", "1.0"], "--ema"),
    (["--pct-start", "0"], "--pct-start"),
    (["--weight-decay", "-1"], "--weight-decay"),
    (["--holdout", "60000"], "--holdout"),
    (["--limit", "0"], "--limit"),
    (["--seeds", "0,x"], "--seeds"),
    (["--backends", "tensorflow,mxnet"], "--backends"),
])
def test_bad_options_raise_before_training(argv, match):
    with pytest.raises(ValueError, match=match):
        speedrun.main(argv)
