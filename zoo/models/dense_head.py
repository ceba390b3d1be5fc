"""`DenseHead`: the classifier head of AlexNet and VGG, declared once."""

from zoo.models.vision_classifier import VisionClassifier
from zoo.models.vision_layers import check_pool_size, scale
from zoo.utils.checks import check_widths

#: the arguments of the head: they change the head only, and keep what the trunk computes
ARGUMENTS = ("head_units", "head_pool_size")


class DenseHead:
    """Mixin for a `VisionClassifier` whose head average-pools the last map to
    `head_pool_size` (torchvision's adaptive pooling; None: the map as it is), flattens
    it, and runs hidden Dense layers of `head_units` (scaled by `width_multiplier`)
    before the logits. Put it before `VisionClassifier` among the bases; the family calls
    `self.check_dense_head(head_units, head_pool_size)` before `super().__init__`.

    Example:

    ```python
    class VGG(DenseHead, VisionClassifier):
        ...
    ```
    """

    head_arguments = VisionClassifier.head_arguments + ARGUMENTS
    function_preserving_arguments = VisionClassifier.function_preserving_arguments + ARGUMENTS
    #: AlexNet's dropout comes before each hidden Dense layer (torchvision's order)
    head_dropout_first = False

    def check_dense_head(self, head_units, head_pool_size):
        """Checks and stores the head's arguments (before the graph is built)."""
        self.head_units = check_widths("head_units", head_units)
        self.head_pool_size = check_pool_size("head_pool_size", head_pool_size)

    def build_head(self, x):
        return self.classifier_head(
            x, hidden_units=[scale(u, self.width_multiplier) for u in self.head_units],
            flatten=True, dropout_first=self.head_dropout_first, pool_size=self.head_pool_size)

    def get_config(self):
        return {**super().get_config(), "head_units": self.head_units,
                "head_pool_size": self.head_pool_size}
