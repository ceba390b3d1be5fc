"""What the jobs' command lines share: `--model-arg KEY=VALUE` (constructor arguments),
`--backend`, and the model arguments a dataset implies.

```python
p = ArgumentParser(prog="export.py")
add_model_arg(p)
args = p.parse_args(["mlp", "--model-arg", "hidden_units=(64,)"])
parse_model_args(args.model_arg)   # {"hidden_units": (64,)}
```
"""

import ast
import inspect

from zoo.errors import UserValueError


BACKENDS = ("tensorflow", "jax", "torch")


def add_model_arg(parser, help=None):
    """`--model-arg KEY=VALUE`, repeatable, into `args.model_arg` (a list)."""
    parser.add_argument(
        "--model-arg", action="append", default=[], metavar="KEY=VALUE",
        help=help or "constructor argument, Python literal value (repeatable), "
                     "e.g. hidden_units=(512,256)")


def add_backend_arg(parser):
    """`--backend tensorflow|jax|torch` (applied before keras is imported, by zoo.cli)."""
    parser.add_argument("--backend", choices=list(BACKENDS), default=None)


def parse_model_args(items):
    """{key: value} from `KEY=VALUE` strings: a Python literal value, else the string."""
    kwargs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserValueError(f"`--model-arg` must be KEY=VALUE. Received: {item!r}")
        try:
            kwargs[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            kwargs[key] = value
    return kwargs


def dataset_model_kwargs(model_name, dataset_info, given):
    """`input_shape`/`num_classes` from the dataset, where the family takes them."""
    from zoo import registry

    params = inspect.signature(registry.get(model_name).cls.__init__).parameters
    kwargs = {}
    if "input_shape" in params and "input_shape" not in given and dataset_info["kind"] == "image":
        kwargs["input_shape"] = tuple(dataset_info["input_shape"])
    if "num_classes" in params and "num_classes" not in given:
        kwargs["num_classes"] = dataset_info["num_classes"]
    return kwargs
