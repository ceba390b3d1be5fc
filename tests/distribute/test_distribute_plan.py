"""`--distribute` in one process: settings and their errors, data shards, who writes.

Fast, in the pytest process (whichever backend): nothing here starts JAX's
distributed runtime; tests/distribute/test_distribute_loopback.py does.
"""

import socket
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

import callbacks
import zoo
from zoo.jobs import distributed_plan as distribute, train
from zoo.training import distribution


def args_of(*argv):
    return train.build_parser().parse_args(["mlp", *argv])


def plan_of(*argv, backend="jax", environ=None):
    return distribute.plan(args_of(*argv), backend, environ=environ or {})


# ---------------------------------------------------------------- settings
def test_flags_give_the_processes():
    plan = plan_of("--distribute", "data_parallel", "--coordinator", "10.0.0.1:1234",
                   "--num-processes", "4", "--process-id", "3", "--run-dir", "/shared/r")
    assert (plan.coordinator, plan.num_processes, plan.process_id, plan.source) == (
        "10.0.0.1:1234", 4, 3, "flags")
    assert plan.multi_process


def test_keras_variables_give_the_processes():
    env = {"KERAS_DISTRIBUTION_JOB_ADDRESSES": "10.0.0.1:1234,10.0.0.2:1234",
           "KERAS_DISTRIBUTION_PROCESS_ID": "1"}
    plan = plan_of("--distribute", "data_parallel", "--run-dir", "r", environ=env)
    assert (plan.coordinator, plan.num_processes, plan.process_id, plan.source) == (
        "10.0.0.1:1234", 2, 1, "KERAS_DISTRIBUTION_*")


def test_slurm_variables_give_the_processes():
    env = {"SLURM_NTASKS": "3", "SLURM_PROCID": "2", "SLURM_JOB_ID": "4097",
           "SLURM_STEP_NODELIST": "gpu[007-009,012],cpu1"}
    plan = plan_of("--distribute", "data_parallel", "--run-dir", "r", environ=env)
    # port as JAX derives it from the job id
    assert (plan.coordinator, plan.num_processes, plan.process_id, plan.source) == (
        "gpu007:61441", 3, 2, "SLURM")
    assert distribute.first_slurm_host("node1,node2") == "node1"
    assert distribute.first_slurm_host("n[3,5-9]") == "n3"


def test_one_process_needs_nothing_else():
    plan = plan_of("--distribute", "data_parallel")
    assert (plan.num_processes, plan.process_id, plan.multi_process) == (1, 0, False)
    assert plan_of().mode == "none" and plan_of().data_options() == {}


@pytest.mark.parametrize(
    "argv, backend, message",
    [
        (["--distribute", "data_parallel", "--coordinator", "h:1", "--num-processes", "2",
          "--process-id", "2", "--run-dir", "r"], "jax",
         "`--process-id` must be in [0, 2) (--num-processes=2). Received: --process-id=2"),
        (["--distribute", "data_parallel", "--coordinator", "h:1", "--num-processes", "2",
          "--process-id", "-1", "--run-dir", "r"], "jax", "Received: --process-id=-1"),
        (["--distribute", "data_parallel", "--num-processes", "2", "--process-id", "0",
          "--run-dir", "r"], "jax", "need the coordinator's address"),
        (["--distribute", "data_parallel", "--coordinator", "nohostport", "--num-processes",
          "2", "--run-dir", "r"], "jax", "must be HOST:PORT. Received: --coordinator='nohostport'"),
        (["--distribute", "data_parallel", "--coordinator", "h:1", "--num-processes", "2"],
         "jax", "same --run-dir"),
        (["--distribute", "data_parallel"], "tensorflow", "use --backend jax"),
        (["--distribute", "data_parallel"], "torch", "use --backend jax"),
        (["--distribute", "mirrored"], "jax", "use --backend tensorflow"),
        (["--coordinator", "h:1"], "jax", "only `--distribute data_parallel` runs"),
        (["--distribute", "data_parallel", "--init-timeout", "0"], "jax",
         "`--init-timeout` must be > 0 seconds"),
    ],
)
def test_bad_settings_are_one_clear_error(argv, backend, message):
    with pytest.raises(ValueError) as info:
        plan_of(*argv, backend=backend)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_variables_are_one_clear_error():
    with pytest.raises(ValueError, match="KERAS_DISTRIBUTION_PROCESS_ID='one'"):
        plan_of("--distribute", "data_parallel",
                environ={"KERAS_DISTRIBUTION_PROCESS_ID": "one"})


def test_the_config_hash_ignores_only_what_may_differ():
    base = distribute.command_digest(args_of("--process-id", "0", "--verbose", "1"))
    assert distribute.command_digest(args_of("--process-id", "1", "--verbose", "0")) == base
    assert distribute.command_digest(args_of("--process-id", "1", "--lr", "0.1")) != base


def test_an_unreachable_coordinator_fails_within_its_timeout():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(ValueError, match=f"Cannot reach the coordinator 127.0.0.1:{port} "
                                         "within 0.5 s"):
        distribution.reach_coordinator(f"127.0.0.1:{port}", 0.5, interval=0.1)
    assert time.monotonic() - start < 5
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        distribution.reach_coordinator(f"127.0.0.1:{listening.getsockname()[1]}", 2)


def test_the_command_line_names_the_backend_to_use(capsys):
    status = train.main(["mlp", "--distribute", "data_parallel", "--backend", "tensorflow"])
    err = capsys.readouterr().err.strip()
    assert status == 2 and err.count("\n") == 0
    assert err.startswith("error: `--distribute data_parallel`") and "use --backend jax" in err


def test_mirrored_trains_through_train_py(tmp_path, capsys):
    status = train.main(["mlp", "--distribute", "mirrored", "--limit", "64", "--epochs", "1",
                         "--batch-size", "16", "--verbose", "0", "--no-tensorboard",
                         "--run-dir", str(tmp_path / "run")])
    assert status == 0, capsys.readouterr().err
    config = (tmp_path / "run" / "config.json").read_text()
    assert '"mode": "mirrored"' in config


# ---------------------------------------------------------------- data shards
def _labels(dataset):
    return [batch[1].numpy() for batch in dataset]


def test_the_shards_side_by_side_are_the_global_batches():
    x = np.arange(46, dtype=np.uint8).reshape(46, 1, 1, 1)
    y = np.arange(46, dtype=np.int32)
    epoch = tf.Variable(1, dtype=tf.int64)
    whole = _labels(zoo.datasets.pipeline(x, y, 8, seed=5, epoch=epoch))
    shards = [_labels(zoo.datasets.pipeline(x, y, 8, seed=5, epoch=epoch, num_shards=2,
                                            shard_index=i, batch_multiple=4)) for i in (0, 1)]
    # 5 whole batches; the last 6 examples do not split over 4 devices and are dropped
    assert len(whole) == 6 and len(shards[0]) == len(shards[1]) == 5
    for k in range(5):
        np.testing.assert_array_equal(np.concatenate([shards[0][k], shards[1][k]]), whole[k])
    epoch.assign(2)  # another epoch: another order, the same on every process
    again = _labels(zoo.datasets.pipeline(x, y, 8, seed=5, epoch=epoch, num_shards=2,
                                          shard_index=0, batch_multiple=4))
    assert not np.array_equal(np.concatenate(again), np.concatenate(shards[0]))


def test_a_last_batch_that_splits_is_kept():
    x, y = np.zeros((44, 1, 1, 1), np.uint8), np.arange(44, dtype=np.int32)
    shard = _labels(zoo.datasets.pipeline(x, y, 8, seed=0, num_shards=2, shard_index=1,
                                          batch_multiple=4))
    assert [len(b) for b in shard] == [4, 4, 4, 4, 4, 2]  # 44 = 5 x 8 + 4


def test_evaluation_pads_with_zero_weights_and_keeps_every_example():
    x, y = np.zeros((23, 1, 1, 1), np.uint8), np.arange(23, dtype=np.int32)
    seen, weights = [], []
    for index in (0, 1):
        for _, labels, weight in zoo.datasets.pipeline(
                x, y, 8, shuffle=False, num_shards=2, shard_index=index, batch_multiple=4):
            seen += labels.numpy().tolist()
            weights += weight.numpy().tolist()
    assert len(seen) == 24 and sum(weights) == 23  # one padding row, weight 0
    assert sorted(s for s, w in zip(seen, weights) if w) == list(range(23))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num_shards=2, shard_index=2), "`shard_index` must be an int in [0, num_shards=2)"),
        (dict(num_shards=2, batch_multiple=3), "must be a multiple of `num_shards`"),
        (dict(batch_multiple=3), "split evenly over the 3 devices. Received: batch_size=8"),
        (dict(num_shards=0), "`num_shards` must be an int >= 1"),
    ],
)
def test_bad_shards_are_refused(kwargs, message):
    x, y = np.zeros((8, 1), np.float32), np.zeros(8, np.int32)
    with pytest.raises(ValueError) as info:
        zoo.datasets.pipeline(x, y, 8, kind="features", **kwargs)
    assert message in str(info.value)


# ---------------------------------------------------------------- one writer
def test_processes_other_than_0_write_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(distribution, "process_index", lambda: 1)
    monkeypatch.setattr(distribution, "process_count", lambda: 1)  # no collective here
    x = np.random.default_rng(0).random((32, 4)).astype("float32")
    y = np.zeros(32, "int32")
    model = zoo.create("mlp", input_shape=(4,), num_classes=2, hidden_units=(4,))
    model.compile(optimizer="sgd")
    standard = callbacks.standard_callbacks(tmp_path / "run", update_freq=1,
                                            hparams={"lr": 0.1})
    assert not any(isinstance(c, (keras.callbacks.TensorBoard, callbacks.StepScalars))
                   for c in standard)
    steps = callbacks.StepScalars(tmp_path / "tb", update_freq=1, hparams={"lr": 0.1})
    model.fit(x, y, validation_data=(x, y), batch_size=8, epochs=2, verbose=0,
              callbacks=[*standard, steps])
    callbacks.log_images(tmp_path / "tb", "x", np.zeros((2, 2, 1)), 0)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == []
    checkpoint = next(c for c in standard if isinstance(c, callbacks.Checkpoint))
    assert checkpoint.best is not None and len(checkpoint.history) == 2  # it kept count


# ---------------------------------------------------------------- the run directory
def _two_processes(monkeypatch, me, refused_by_0):
    """This process is `me` of 2; process 0 refused the directory or not (the collective)."""
    monkeypatch.setattr(distribution, "process_index", lambda: me)

    def gather(values):
        rows = [[int(refused_by_0)], [0]]
        assert [int(v) for v in values] == rows[me]  # what this process told the others
        return np.array(rows)

    monkeypatch.setattr(distribution, "gather", gather)
    return distribute.Plan("data_parallel", "127.0.0.1:1", 2, me)


def test_only_process_0_locks_and_records_the_run_directory(tmp_path, monkeypatch):
    from zoo.jobs.run_dir import RunDirectory

    # every process runs `check()` before joining the others, so before process 0 locks
    plan = _two_processes(monkeypatch, me=1, refused_by_0=False)
    other = RunDirectory(tmp_path / "run")
    other.check()
    train.open_run_dir(other, {"args": {}}, plan)
    assert not other.lock.held and not (tmp_path / "run").exists()  # process 0 writes

    plan = _two_processes(monkeypatch, me=0, refused_by_0=False)
    with RunDirectory(tmp_path / "run") as chief:
        train.open_run_dir(chief, {"args": {}}, plan)
        assert chief.lock.held and (tmp_path / "run" / "config.json").is_file()


def test_a_refusal_by_process_0_stops_every_process(tmp_path, monkeypatch):
    from zoo.jobs.run_dir import RunDirectory, RunDirectoryError

    held = tmp_path / "run"
    (held / "checkpoints").mkdir(parents=True)
    RunDirectory(held).owned.record()  # a run the zoo wrote: its manifest lists its files
    (held / "model.keras").write_bytes(b"a finished run")
    before = sorted(p.name for p in held.rglob("*"))
    plan = _two_processes(monkeypatch, me=0, refused_by_0=True)
    with pytest.raises(RunDirectoryError, match="holds a run"):
        train.open_run_dir(RunDirectory(held), {"args": {}}, plan)
    plan = _two_processes(monkeypatch, me=1, refused_by_0=True)
    with pytest.raises(RunDirectoryError, match="process 0 refused the run directory .* so "
                                                "every process stops"):
        train.open_run_dir(RunDirectory(held), {"args": {}}, plan)
    assert sorted(p.name for p in held.rglob("*")) == before
