"""JAX half of the zoo step: the stateless form.

keras's JAX loop passes the state in and out of a jitted step
`(trainable, non_trainable, optimizer, metrics) -> new state`. We open one
`keras.StatelessScope` over that state and run the backend-free step inside
it; a gradient is `jax.value_and_grad` of a function that re-opens the scope
with the differentiated variables replaced by its arguments. Updates made in
the forward pass (batch-norm statistics, seed generators, metrics) flow back
out as auxiliary outputs.

Under `keras.distribution.DataParallel` the same step is the data-parallel one:
keras replicates the state over the device mesh and shards the batch along its
first axis, and `jax.jit` compiles the step for the global batch, inserting the
all-reduces itself. So the loss is the mean over the global batch, the
gradients and the update (loss scaling, clipping, scheduled momentum, every GAN
player) are those of the global batch, and BatchNorm's batch statistics are the
global batch's (synchronised), not each replica's (tests/distribute checks all
three against one device).
"""

import jax
import jax.numpy as jnp
import keras

from zoo.training.base import BaseZooModel, TracedFloat


class _JaxTracedFloat(TracedFloat):
    def __jax_array__(self):
        return jnp.asarray(self.tensor)


class _StepContext:
    """Scope of the step being traced (a plain object: keras does not track it)."""

    scope = None
    variables = ()


class ZooTrainer(BaseZooModel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._zoo_step_context = _StepContext()

    def train_step(self, state, data):
        refs = (
            self.trainable_variables,
            self.non_trainable_variables,
            self.optimizer.variables,
            self.metrics_variables,
        )
        return self._stateless(self._zoo_train_step, refs, state, data)

    def test_step(self, state, data):
        refs = (self.trainable_variables, self.non_trainable_variables, self.metrics_variables)
        return self._stateless(self._zoo_test_step, refs, state, data)

    def _stateless(self, step, refs, state, data):
        mapping = [(v, value) for vs, values in zip(refs, state) for v, value in zip(vs, values)]
        context = self._zoo_step_context
        context.variables = [v for v, _ in mapping]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            context.scope = scope
            try:
                logs = step(data)
            finally:
                context.scope = None
        new_state = tuple(
            [_current(scope, v, value) for v, value in zip(vs, values)]
            for vs, values in zip(refs, state)
        )
        return logs, new_state

    def _value_and_grad(self, fn, variables, optimizer):
        outer = self._zoo_step_context.scope
        if outer is None:
            raise RuntimeError("ZooModel's JAX step ran outside its stateless scope.")
        differentiated = {id(v) for v in variables}
        others = [v for v in self._zoo_step_context.variables if id(v) not in differentiated]

        def stateless_loss(values):
            mapping = [(v, outer.get_current_value(v)) for v in others]
            mapping += list(zip(variables, values))
            with keras.StatelessScope(state_mapping=mapping) as inner:
                loss, aux = fn()
                scaled = optimizer.scale_loss(loss)
            updates = [_current(inner, v, None) for v in others]
            return scaled, (loss, aux, updates)

        values = [outer.get_current_value(v) for v in variables]
        (_, (loss, aux, updates)), grads = jax.value_and_grad(stateless_loss, has_aux=True)(values)
        for v, value in zip(others, updates):
            outer.add_update((v, value))
        # jax gives zeros where the loss does not depend on a variable; TensorFlow and
        # torch give None, and keras's optimizers then leave the variable alone
        # (no momentum, no weight decay): say None here too
        used = _used_inputs(lambda vs: stateless_loss(vs)[0], values)
        return loss, aux, [g if u else None for g, u in zip(grads, used)]

    def _apply_gradients(self, optimizer, grads, variables):
        # stateless_apply, as keras's JAX trainer does: a LossScaleOptimizer's
        # stateful apply assigns inside lax.cond branches, which leaks tracers.
        scope = self._zoo_step_context.scope
        optimizer_variables = optimizer.variables
        new_values, new_optimizer_values = optimizer.stateless_apply(
            [scope.get_current_value(v) for v in optimizer_variables],
            grads,
            [scope.get_current_value(v) for v in variables],
        )
        for v, value in zip(variables, new_values):
            scope.add_update((v, value))
        for v, value in zip(optimizer_variables, new_optimizer_values):
            scope.add_update((v, value))

    def _traced_float(self, nominal, tensor):
        return _JaxTracedFloat(nominal, tensor)


def _used_inputs(fn, values):
    """For each array of `values`, whether `fn(values)` depends on it (read off its jaxpr).

    Conservative: an equation with a needed output needs all of its inputs.
    Traced once more at compile time; the compiled step is unchanged.
    """
    closed = jax.make_jaxpr(fn)(values)
    jaxpr = closed.jaxpr
    needed = {v for v in jaxpr.outvars if not _is_literal(v)}
    for eqn in reversed(jaxpr.eqns):
        if any(v in needed for v in eqn.outvars):
            needed.update(v for v in eqn.invars if not _is_literal(v))
    return [v in needed for v in jaxpr.invars]


def _is_literal(var):
    return hasattr(var, "val")  # jaxpr literals carry their value; variables do not


def _current(scope, variable, default):
    value = scope.get_current_value(variable)
    return default if value is None else value


def input_gradient(fn, x):
    """d sum(fn(x)) / dx, differentiable again (for gradient penalties)."""
    return jax.grad(lambda t: jnp.sum(fn(t)))(jnp.asarray(x))
