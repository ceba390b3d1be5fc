"""Data-parallel training on loopback, CPU (issue 13, items 5a-5c and the bad input).

The runs are started once by conftest.py's `loopback` fixture (subprocesses on
127.0.0.1 with virtual CPU devices); each test reads what one of them left.
"""

import json
import re

import numpy as np
import pytest

WEIGHTS_1E5 = 1e-5
WEIGHTS_BN = 1e-4


def model_weights(run_dir):
    import keras

    import zoo  # noqa: F401 - registers the zoo's classes for loading

    model = keras.saving.load_model(str(run_dir / "model.keras"), compile=False)
    return [np.asarray(w) for w in model.get_weights()]


def largest_difference(a, b):
    assert len(a) == len(b)
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def printed_accuracy(output):
    found = re.findall(r"^test accuracy: ([0-9.]+)$", output, flags=re.M)
    assert found, output[-3000:]
    return found[-1]


@pytest.fixture(scope="module")
def devices(loopback):
    return loopback["devices"]


# ---------------------------------------------------------------- 5a: one process, 4 devices
@pytest.mark.parametrize("case, tolerance", [("mlp", WEIGHTS_1E5), ("resnet20", WEIGHTS_BN)])
def test_two_epochs_on_4_devices_end_with_the_weights_of_one_device(devices, case, tolerance):
    difference, moved = devices[case]
    assert moved > 1e-3  # training changed the weights: the comparison means something
    assert difference <= tolerance


@pytest.mark.parametrize(
    "case",
    ["mlp_float16_clip_momentum", "vae", "wgan_gp", "lstm"],
)
def test_every_kind_of_step_gives_the_global_batch_update(devices, case):
    difference, moved = devices[case]
    assert moved > 1e-3
    # float16 compute rounds each replica's partial sums: 1e-4 there
    assert difference <= (1e-4 if "float16" in case else WEIGHTS_1E5)


def test_batch_norm_statistics_are_those_of_the_global_batch(devices):
    bn = devices["batch_norm"]
    np.testing.assert_allclose(bn["moving_variance"], bn["global_variance"], rtol=1e-6)
    np.testing.assert_allclose(bn["moving_mean"], bn["global_mean"], rtol=1e-6)
    # per replica the variance would be 0: each device's shard holds equal rows
    assert bn["mean_of_replica_variances"] == [0.0, 0.0, 0.0]


def test_padded_evaluation_counts_only_real_examples(devices):
    one, parallel = devices["padded_evaluation"]["one_device"], devices["padded_evaluation"][
        "data_parallel"]
    assert one["elements"] == 2 and parallel["elements"] == 3  # (x, y) vs (x, y, weight)
    assert parallel["accuracy"] == pytest.approx(one["accuracy"], abs=1e-7)
    # keras's mean loss counts the 2 padding rows (of 32) as zero-loss examples
    assert parallel["loss"] == pytest.approx(one["loss"] * 30 / 32, rel=1e-5)


def test_a_global_batch_the_devices_do_not_divide_is_refused(devices):
    message = devices["batch_check"]
    assert message is not None
    assert "multiple of the 4 devices" in message and "--batch-size=30" in message


# ---------------------------------------------------------------- 5b: two processes
def test_two_processes_end_like_one_process(loopback):
    full = loopback["full"]
    for run in full:
        assert run.returncode == 0, run.output[-5000:]
    one = loopback["reference"]
    assert "REFERENCE status=0" in one.output, one.output[-5000:]
    reference = printed_accuracy(one.output)
    assert printed_accuracy(full[0].output) == printed_accuracy(full[1].output) == reference
    difference = largest_difference(
        model_weights(loopback["dirs"]["reference"]), model_weights(loopback["dirs"]["full"])
    )
    assert difference <= WEIGHTS_1E5


def test_only_process_0_writes_the_run(loopback):
    run_dir = loopback["dirs"]["full"]
    config = json.loads((run_dir / "config.json").read_text())
    assert config["distribute"]["processes"] == 2 and config["distribute"]["devices"] == 4
    # event files are named events.out.tfevents.<time>.<host>.<pid>.<n>.v2
    events = list((run_dir / "tensorboard").rglob("events.out.*"))
    writers = {p.name.split(".")[-3] for p in events}
    assert {p.parent.name for p in events} >= {"train", "validation"}
    assert writers == {str(loopback["full"][0].process.pid)}
    states = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert states == ["best.json", "best.keras", "state-00001.json", "state-00001.weights.h5",
                      "state-00002.json", "state-00002.weights.h5"]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert f"{metrics['test']['accuracy']:.4f}" == printed_accuracy(loopback["full"][0].output)


# ---------------------------------------------------------------- 5c: a process dies
def test_when_a_process_dies_the_other_stops_with_a_message(loopback):
    killed, survivor = loopback["killed"][1], loopback["killed"][0]
    assert killed.returncode == -9, killed.output[-3000:]
    process, epoch, step = loopback["kill"].split(":")
    assert f"process 1: SIGKILL at epoch {epoch} step {step}" in killed.output
    assert survivor.returncode not in (0, None), survivor.output[-3000:]
    assert survivor.ended - killed.ended <= 60
    assert re.search(r"^error: process 0 of 2 (stopped|ended abruptly): another process",
                     survivor.output, flags=re.M), survivor.output[-3000:]


def test_both_resumed_processes_finish_like_the_uninterrupted_run(loopback):
    for run in loopback["resumed"]:
        assert run.returncode == 0, run.output[-5000:]
    run_dir = loopback["dirs"]["killed"]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["resumed_after_epoch"] == 1
    assert printed_accuracy(loopback["resumed"][0].output) == printed_accuracy(
        loopback["full"][0].output)
    difference = largest_difference(model_weights(run_dir), model_weights(loopback["dirs"]["full"]))
    assert difference <= WEIGHTS_1E5


# ---------------------------------------------------------------- bad input across processes
def _error_lines(run):
    return [ln for ln in run.output.splitlines() if ln.startswith("error:")]


def test_different_commands_are_refused_at_start(loopback):
    for run in loopback["mismatched"]:
        assert run.returncode == 2, run.output[-3000:]
        (line,) = _error_lines(run)
        assert "differ in their commands (config hash)" in line
    assert not (loopback["dirs"]["full"].parent / "mismatched" / "config.json").exists()


def test_an_unreachable_coordinator_is_one_line_within_the_timeout(loopback):
    run = loopback["unreachable"]
    assert run.returncode == 2, run.output[-3000:]
    (line,) = _error_lines(run)
    assert "Cannot reach the coordinator 127.0.0.1:" in line and "within 3 s" in line
    assert run.ended - run.started < 90  # start-up, then the 3 s


def test_a_peer_that_never_comes_is_one_line_within_the_timeout(loopback):
    run = loopback["alone"]
    assert run.returncode == 2, run.output[-3000:]
    (line,) = _error_lines(run)
    assert "did not all join the coordinator" in line and "within 3 s" in line
    assert run.ended - run.started < 90
