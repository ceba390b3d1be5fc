"""`AuxiliaryHeads`: training-only auxiliary classifiers (GoogLeNet's, Inception v3's)."""

from keras import ops


class AuxiliaryHeads:
    """Mixin for a functional classifier whose graph outputs `[logits, *aux_logits]` when
    `self.uses_aux`: in training `call` returns the tuple and the loss adds `self.aux_weight`
    times each auxiliary head's loss (the model's default loss); in inference the model
    returns the logits alone. Put it before the model class among the bases.

    Example:

    ```python
    class InceptionV3(AuxiliaryHeads, VisionClassifier):
        ...
    ```
    """

    def call(self, inputs, training=False, mask=None):
        outputs = super().call(inputs, training=training, mask=mask)
        if not self.uses_aux:
            return outputs
        # the auxiliary heads count in training only
        return tuple(outputs) if training else outputs[0]

    def compute_output_spec(self, inputs, training=False, mask=None):
        spec = super().compute_output_spec(inputs, training=training, mask=mask)
        if not self.uses_aux:
            return spec
        return tuple(spec) if training else spec[0]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not isinstance(y_pred, (tuple, list)):
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        logits, *aux = y_pred
        loss = super().compute_loss(x, y, logits, sample_weight, training=training)
        aux_loss_fn = self.default_loss()  # the auxiliary heads' loss, as in the papers
        for aux_logits in aux:
            aux_loss = aux_loss_fn(y, aux_logits, sample_weight=sample_weight)
            loss = loss + ops.cast(aux_loss, loss.dtype) * self.aux_weight
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if isinstance(y_pred, (tuple, list)):
            y_pred = y_pred[0]
        return super().compute_metrics(x, y, y_pred, sample_weight=sample_weight)
