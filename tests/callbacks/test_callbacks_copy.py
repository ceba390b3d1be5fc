"""Every callback survives copy.deepcopy (keras-tuner copies callbacks per trial), used or not."""

import copy

import keras
import tensorflow as tf

import callbacks
from callbacks_testlib import tiny_data, tiny_model


def _fit(cbs, epochs=2):
    x, y = tiny_data(n=32)
    model = tiny_model()
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9))
    model.fit(x, y, batch_size=8, epochs=epochs, verbose=0, validation_data=(x, y), callbacks=cbs)
    return model


def test_deepcopy_before_and_after_use(tmp_path):
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
    originals = [
        callbacks.Scheduler(callbacks.OneCycle(0.1)),
        callbacks.Checkpoint(tmp_path / "ck", monitor="val_loss"),
        callbacks.StepScalars(tmp_path / "tb", hparams={"lr": 0.1}),
        callbacks.DataEpoch(epoch),
    ]
    finder = callbacks.LRFinder(num_steps=4)
    standard = callbacks.standard_callbacks(
        tmp_path / "std",
        schedule=callbacks.StepDecay(0.1, 1),
        momentum=callbacks.MomentumSchedule(lambda s: 0.9),
        data_epoch=epoch,
    )
    # what keras-tuner does with a search's callbacks, before each trial
    copies = copy.deepcopy(originals + [finder] + standard)
    assert [type(c) for c in copies] == [type(c) for c in originals + [finder] + standard]
    assert copies[0].schedule is not originals[0].schedule
    assert copies[3].variable is epoch  # the dataset's variable is shared, not cloned

    used = copies[:4]
    _fit(used)
    _fit([copies[4]])
    _fit(copies[5:])
    # after use: no model and no summary writer is copied, and the copy works again.
    # (keras's own TensorBoard cannot be copied once used; keras-tuner only ever
    # copies the search's unused originals, as above.)
    zoo_made = [c for c in copies[5:] if type(c).__module__.startswith("callbacks")]
    assert len(zoo_made) == len(copies[5:]) - 2  # keras's TensorBoard, TerminateOnNaN
    again = copy.deepcopy(used + [copies[4]] + zoo_made)
    for cb in again:
        if isinstance(cb, callbacks.DataEpoch) or type(cb).__module__.startswith("callbacks"):
            assert cb.model is None, type(cb)
    assert again[2]._writer is None
    _fit(again[:4], epochs=1)
    _fit([again[4]], epochs=1)
    _fit(again[5:], epochs=1)
    assert again[3].variable is epoch and int(epoch.numpy()) == 0
