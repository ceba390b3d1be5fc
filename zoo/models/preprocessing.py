"""ImageNet-style preprocessing as a Keras layer, so a model carries the one its weights need."""

import keras
from keras import layers, ops

from zoo.errors import UserValueError

INTERPOLATIONS = ("bilinear", "bicubic")


@keras.saving.register_keras_serializable(package="zoo")
class ImagePreprocessing(layers.Layer):
    """torchvision's `ImageClassification` transform: resize, center crop, scale, normalize.

    Images of any size in (uint8 or float, pixel values in [0, 255], NHWC, as
    keras.applications takes them); `crop`-sized float32 images out, each
    channel `(x / 255 - mean) / std`. The shorter side is first resized to
    `resize` (the longer one to `int(resize * long / short)`, as torchvision
    does), then the center `crop` is taken (torchvision's rounding of the
    offset). Resizing goes through `keras.ops.image.resize` with
    antialiasing: within 0.01 (normalized units, half a grey level) of
    torchvision's on smooth images (tests/vision/test_vision_preprocessing.py),
    not bit-identical: torchvision resizes uint8 images to uint8.

    Height and width must be known when the layer runs (they are for every
    array and tf.data batch of fixed-size images); a zoo model traces its predict
    function once per image size on TensorFlow, so images of any size work one
    call after another on every backend.

    Args:
        resize: length of the shorter side after resizing (int), or None
            (no resize: the input is cropped as it is).
        crop: (height, width) of the output, or an int for a square.
        interpolation: "bilinear" or "bicubic" (torchvision's and timm's entries use these).
        mean: per-channel mean on the [0, 1] scale.
        std: per-channel standard deviation on the [0, 1] scale.
        antialias: antialias when shrinking (torchvision's default: True).

    Example:

    ```python
    prep = ImagePreprocessing(232, 224, "bilinear", (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    x = prep(np.zeros((2, 480, 640, 3), "uint8"))   # (2, 224, 224, 3)
    ```
    """

    #: the layer resizes by the input's height and width, which must be static
    requires_known_image_size = True

    def __init__(self, resize=None, crop=224, interpolation="bilinear", mean=(0.0, 0.0, 0.0),
                 std=(1.0, 1.0, 1.0), antialias=True, **kwargs):
        super().__init__(**kwargs)
        if resize is not None and (isinstance(resize, bool) or not isinstance(resize, int)
                                   or resize <= 0):
            raise UserValueError(
                f"`resize` must be None or an int > 0. "
                f"Received: resize={resize!r}"
            )
        crop = (crop, crop) if isinstance(crop, int) else tuple(crop)
        if len(crop) != 2 or any(isinstance(c, bool) or not isinstance(c, int) or c <= 0
                                 for c in crop):
            raise UserValueError(
                f"`crop` must be an int > 0 or (height, width). Received: crop={crop!r}")
        if interpolation not in INTERPOLATIONS:
            raise UserValueError(f"`interpolation` must be one of {INTERPOLATIONS}. "
                                 f"Received: interpolation={interpolation!r}")
        mean, std = tuple(float(m) for m in mean), tuple(float(s) for s in std)
        if len(mean) != len(std) or any(s <= 0 for s in std):
            raise UserValueError(
                "`mean` and `std` need one value per channel, `std` > 0. "
                f"Received: mean={mean}, std={std}")
        self.resize, self.crop, self.interpolation = resize, crop, interpolation
        self.mean, self.std, self.antialias = mean, std, bool(antialias)

    def output_size(self, height, width):
        """(height, width) after the resize (before the crop)."""
        if self.resize is None:
            return height, width
        if height <= width:
            return self.resize, int(self.resize * width / height)
        return int(self.resize * height / width), self.resize

    def call(self, images):
        height, width = images.shape[1], images.shape[2]
        if height is None or width is None:
            raise UserValueError(
                f"{type(self).__name__} needs images whose height and width are known. "
                f"Received: images of shape {tuple(images.shape)}")
        x = ops.cast(images, "float32")
        new_h, new_w = self.output_size(height, width)
        if (new_h, new_w) != (height, width):
            x = ops.image.resize(x, (new_h, new_w), interpolation=self.interpolation,
                                 antialias=self.antialias)
        crop_h, crop_w = self.crop
        if crop_h > new_h or crop_w > new_w:
            raise UserValueError(
                f"Images of {height}x{width} resize to {new_h}x{new_w}, smaller than the crop "
                f"{crop_h}x{crop_w}. Received: images of shape {tuple(images.shape)}")
        top = int(round((new_h - crop_h) / 2.0))
        left = int(round((new_w - crop_w) / 2.0))
        x = x[:, top:top + crop_h, left:left + crop_w, :]
        mean = ops.convert_to_tensor([255.0 * m for m in self.mean], "float32")
        scale = ops.convert_to_tensor([1.0 / (255.0 * s) for s in self.std], "float32")
        return (x - mean) * scale

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.crop, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "resize": self.resize, "crop": list(self.crop),
                "interpolation": self.interpolation, "mean": list(self.mean),
                "std": list(self.std), "antialias": self.antialias}


def preprocessing_arguments(transform, size=None):
    """`ImagePreprocessing` arguments for a weights entry's `transform`, cropping to `size`.

    `transform`: {"resize", "crop", "interpolation", "mean", "std"} as entries
    record it. Another `size` (height, width) than the entry's crop scales the
    resize with it (same resize / crop ratio).
    """
    crop = transform["crop"]
    crop = (crop, crop) if isinstance(crop, int) else tuple(crop)
    resize = transform.get("resize")
    if size is not None and tuple(size) != crop:
        if resize is not None:
            resize = int(round(resize * min(size) / min(crop)))
        crop = tuple(size)
    return {"resize": resize, "crop": list(crop), "interpolation": transform["interpolation"],
            "mean": list(transform["mean"]), "std": list(transform["std"])}
