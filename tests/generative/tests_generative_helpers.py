"""Helpers of the generative tests (not a test module)."""

from pathlib import Path


def tensorboard_image_tags(log_dir):
    import tensorflow as tf

    tags = []
    for path in Path(log_dir).rglob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                tensor = tf.make_ndarray(value.tensor) if value.HasField("tensor") else None
                # image summaries: [width, height, encoded PNG...]
                if tensor is None or tensor.dtype != object or len(tensor) < 3:
                    continue
                if bytes(tensor[2])[:4] == b"\x89PNG":
                    tags.append((value.tag, event.step))
    return sorted(tags)
