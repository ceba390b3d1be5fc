"""Schedules against their published formulas, written out here; bad input; serialization."""

import math

import numpy as np
import pytest

import keras

import callbacks
import zoo
from callbacks import CosineWarmup, MomentumSchedule, MultiStep, OneCycle, StepDecay


def one_cycle_reference(
    step,
    total_steps,
    max_lr,
    pct_start=0.3,
    div_factor=25.0,
    final_div_factor=1e4,
    base_momentum=0.85,
    max_momentum=0.95,
    anneal="cos",
):
    """Smith & Topin (2019) one-cycle, as PyTorch's OneCycleLR states it (two phases).

    initial_lr = max_lr / div_factor; min_lr = initial_lr / final_div_factor.
    Phase 1, steps 0 .. pct_start*T - 1: lr initial -> max, momentum max -> base.
    Phase 2, to step T - 1: lr max -> min, momentum base -> max.
    Cosine annealing: end + (start - end) / 2 * (cos(pi * pct) + 1).
    """
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    phase_end = pct_start * total_steps - 1
    last = total_steps - 1

    def ann(start, end, pct):
        if anneal == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    if step <= phase_end:
        pct = step / phase_end
        return ann(initial_lr, max_lr, pct), ann(max_momentum, base_momentum, pct)
    pct = (step - phase_end) / (last - phase_end)
    return ann(max_lr, min_lr, pct), ann(base_momentum, max_momentum, pct)


def _values(schedule, steps):
    return np.array([float(keras.ops.convert_to_numpy(schedule(s))) for s in steps])


@pytest.mark.parametrize("anneal", ["cos", "linear"])
@pytest.mark.parametrize("total,pct", [(100, 0.3), (57, 0.25)])
def test_one_cycle_matches_published_formula(total, pct, anneal):
    sched = OneCycle(max_lr=0.4, total_steps=total, pct_start=pct, anneal=anneal)
    mom = sched.momentum_schedule()
    steps = range(total)
    ref = np.array(
        [one_cycle_reference(s, total, 0.4, pct_start=pct, anneal=anneal) for s in steps]
    )
    np.testing.assert_allclose(_values(sched, steps), ref[:, 0], rtol=2e-5, atol=1e-9)
    np.testing.assert_allclose(_values(mom, steps), ref[:, 1], rtol=2e-6)
    # landmarks: start, peak, end
    assert _values(sched, [0])[0] == pytest.approx(0.4 / 25)
    if float(pct * total).is_integer():  # the peak falls on a step
        assert _values(sched, [pct * total - 1])[0] == pytest.approx(0.4, rel=1e-6)
    assert _values(sched, [total - 1])[0] == pytest.approx(0.4 / 25 / 1e4, rel=1e-4)
    # after the cycle the final values hold
    assert _values(sched, [total + 10])[0] == pytest.approx(0.4 / 25 / 1e4, rel=1e-4)


def test_one_cycle_matches_pytorch_one_cycle_lr():
    torch = pytest.importorskip("torch")  # installed by `make install`
    total = 50
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    ref = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=total)
    lrs, moms = [], []
    for _ in range(total):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        ref.step() if len(lrs) < total else None
    sched = OneCycle(0.2, total_steps=total)
    np.testing.assert_allclose(_values(sched, range(total)), lrs, rtol=2e-5)
    np.testing.assert_allclose(_values(sched.momentum_schedule(), range(total)), moms, rtol=2e-6)


def test_one_cycle_length_from_epochs_or_fit():
    assert OneCycle(0.1, epochs=3, steps_per_epoch=10).steps_total == 30
    unresolved = OneCycle(0.1)
    assert unresolved.resolve(epochs=4, steps_per_epoch=5).total_steps == 20
    assert unresolved.total_steps is None  # resolve returns a copy
    with pytest.raises(ValueError, match="total_steps=None"):
        unresolved(0)
    with pytest.raises(ValueError, match="steps_per_epoch=None"):
        unresolved.resolve(epochs=4, steps_per_epoch=None)


def test_one_cycle_without_length_in_fit_of_unknown_cardinality_fails_clearly():
    import tensorflow as tf

    import zoo

    model = zoo.create("mlp", input_shape=(2,), num_classes=2, hidden_units=(4,))
    model.compile(optimizer=keras.optimizers.SGD(momentum=0.9))
    data = tf.data.Dataset.from_tensor_slices((np.zeros((8, 2), "float32"), np.zeros(8, "int32")))
    data = data.filter(lambda x, y: True).batch(4)  # cardinality unknown
    with pytest.raises(ValueError, match="OneCycle needs its length"):
        model.fit(
            data, epochs=1, verbose=0, shuffle=False, callbacks=[callbacks.Scheduler(OneCycle(0.1))]
        )


def test_cosine_warmup_formula():
    total, warm = 40, 8
    sched = CosineWarmup(1.0, total_steps=total, warmup_steps=warm, initial_lr=0.1, min_lr=0.01)
    expected = []
    for s in range(total + 3):
        if s < warm:
            expected.append(0.1 + (1.0 - 0.1) * s / warm)
        else:
            p = min((s - warm) / (total - warm), 1.0)
            expected.append(0.01 + (1.0 - 0.01) * 0.5 * (1 + math.cos(math.pi * p)))
    np.testing.assert_allclose(_values(sched, range(total + 3)), expected, rtol=1e-5)
    assert CosineWarmup(1.0, total_steps=100, warmup_pct=0.1)._warmup() == 10


def test_step_decay_and_multistep_count_epochs():
    step = StepDecay(0.1, step_size=2, gamma=0.5).resolve(steps_per_epoch=3)
    # PyTorch StepLR per epoch: lr * gamma ** (epoch // step_size)
    expected = [0.1 * 0.5 ** ((s // 3) // 2) for s in range(15)]
    np.testing.assert_allclose(_values(step, range(15)), expected, rtol=1e-6)
    multi = MultiStep(1.0, milestones=[2, 3], gamma=0.1).resolve(steps_per_epoch=4)
    expected = [1.0 * 0.1 ** sum((s // 4) >= m for m in (2, 3)) for s in range(20)]
    np.testing.assert_allclose(_values(multi, range(20)), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="steps_per_epoch=None"):
        StepDecay(0.1, step_size=2)(0)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: OneCycle(0.0, total_steps=10), r"max_lr=0\.0"),
        (lambda: OneCycle(-1.0, total_steps=10), r"max_lr=-1\.0"),
        (lambda: OneCycle(0.1, total_steps=10, pct_start=1.0), r"pct_start=1\.0"),
        (lambda: OneCycle(0.1, total_steps=10, pct_start=0.0), r"pct_start=0\.0"),
        (lambda: OneCycle(0.1, total_steps=0), r"total_steps=0"),
        (lambda: OneCycle(0.1, total_steps=3), r"total_steps=3"),
        (lambda: OneCycle(0.1, total_steps=10, anneal="exp"), r"anneal='exp'"),
        (lambda: OneCycle(0.1, total_steps=10, momentum=(0.9, 1.2)), r"momentum=\(0\.9, 1\.2\)"),
        (lambda: CosineWarmup(0.0), r"max_lr=0\.0"),
        (lambda: CosineWarmup(0.1, total_steps=10, warmup_steps=10), r"warmup_steps=10"),
        (lambda: StepDecay(-0.1, step_size=1), r"lr=-0\.1"),
        (lambda: StepDecay(0.1, step_size=0), r"step_size=0"),
        (lambda: MultiStep(0.1, milestones=[3, 2]), r"milestones=\[3, 2\]"),
        (lambda: MultiStep(0.1, milestones=[1], unit="batch"), r"unit='batch'"),
        (lambda: callbacks.LRFinder(min_lr=0.0), r"min_lr=0\.0"),
        (lambda: callbacks.LRFinder(min_lr=1.0, max_lr=0.1), r"max_lr=0\.1"),
    ],
)
def test_bad_arguments_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_types_are_named():
    with pytest.raises(TypeError, match="schedule=0.1"):
        callbacks.Scheduler(0.1)
    with pytest.raises(TypeError, match="momentum=0.9"):
        callbacks.Scheduler(momentum=0.9)
    with pytest.raises(TypeError, match="fn=0.9"):
        MomentumSchedule(0.9)


@pytest.mark.parametrize(
    "sched",
    [
        OneCycle(0.3, total_steps=77, pct_start=0.2, anneal="linear", momentum=None),
        CosineWarmup(0.01, total_steps=50, warmup_pct=0.1, min_lr=1e-4),
        StepDecay(0.1, step_size=3, steps_per_epoch=5),
        MultiStep(0.1, milestones=[2, 5], unit="step"),
    ],
)
def test_schedules_serialize(sched):
    restored = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(sched))
    assert type(restored) is type(sched) and restored.get_config() == sched.get_config()
    np.testing.assert_allclose(_values(restored, range(0, 60, 7)), _values(sched, range(0, 60, 7)))


def test_momentum_schedules_serialize():
    mom = OneCycle(0.1, total_steps=20).momentum_schedule()
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(mom))
    np.testing.assert_allclose(_values(again, range(20)), _values(mom, range(20)))
    wrapped = MomentumSchedule(keras.optimizers.schedules.PiecewiseConstantDecay([5], [0.5, 0.9]))
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(wrapped))
    np.testing.assert_allclose(_values(again, [0, 5, 6]), [0.5, 0.5, 0.9])
    assert not MomentumSchedule(lambda s: 0.9).serializable()


def test_model_saved_with_a_schedule_loads_after_import_zoo_alone(tmp_path):
    """train.py --schedule saves the schedule inside the optimizer; a new process that
    only imports zoo (not callbacks) must still load the file."""
    import subprocess
    import sys

    model = zoo.create("mlp", input_shape=(4,), num_classes=3, hidden_units=(8,))
    model.compile(optimizer=keras.optimizers.Adam(callbacks.OneCycle(1e-2, total_steps=10)))
    model.fit(np.zeros((8, 4), "float32"), np.zeros(8, "int32"), epochs=1, verbose=0)
    path = tmp_path / "scheduled.keras"
    model.save(path)
    old_entry = {  # how files saved before the schedules moved into zoo name them
        "module": "callbacks.schedules", "class_name": "OneCycle",
        "registered_name": "callbacks>OneCycle",
        "config": callbacks.OneCycle(1e-2, total_steps=10).get_config(),
    }
    code = (
        # a user project's own `callbacks` module must not matter: block the name
        "import sys; sys.modules['callbacks'] = None\n"
        "import keras, zoo\n"
        "from zoo import compat\n"
        f"m = keras.saving.load_model({str(path)!r})\n"
        f"old = keras.saving.deserialize_keras_object({old_entry!r})\n"
        "assert type(old).__name__ == 'OneCycle', old\n"
        "print(type(compat.learning_rate_object(m.optimizer)).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("OneCycle")
