"""Reference models from torchvision and timm: the ground truth ported weights are checked against.

Used by `scripts/port_weights.py` and the tests; library code never imports it.
"""

import importlib
import importlib.util
import sys

import numpy as np

from zoo.errors import UserValueError


def import_torchvision():
    """`torchvision`, importable even where its C extension is not.

    A torchvision wheel built for CUDA beside a CPU-only torch fails at import
    (`operator torchvision::nms does not exist`: `torchvision/__init__.py`
    registers the C ops). The models, their weights' metadata and the
    transforms are pure Python: then the package is loaded without running its
    `__init__.py`.
    """
    try:
        import torchvision

        return torchvision
    except (ImportError, RuntimeError) as err:
        if "torchvision" not in str(err) and "No module named" in str(err):
            raise
    for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
        del sys.modules[name]
    spec = importlib.util.find_spec("torchvision")
    module = importlib.util.module_from_spec(
        importlib.machinery.ModuleSpec("torchvision", None, is_package=True))
    module.__path__ = list(spec.submodule_search_locations)
    module.__file__ = spec.origin
    sys.modules["torchvision"] = module
    module.__version__ = importlib.import_module("torchvision.version").__version__
    importlib.import_module("torchvision.models")
    importlib.import_module("torchvision.transforms")
    return module


def import_timm():
    import_torchvision()  # timm imports torchvision's transforms
    import timm

    return timm


def _declaration(name):
    """The conversion declarations (`<family>_convert`) of the family of zoo model `name`."""
    from zoo import registry

    return registry.family(name).declaration("convert")


def torchvision_model(name, device=None, **kwargs):
    """torchvision's `name` with random weights (no download); `device="meta"`: shapes only.

    The zoo family's `TORCHVISION_ARGUMENTS` (in its `<family>_convert.py`) are the builder's
    defaults, e.g. GoogLeNet's without auxiliary heads; its `torchvision_arguments(name)`
    those of one name (ViT-H/14's published weights are laid out for 518x518 images). A
    family whose builder does not run on the meta device as it is declares
    `torchvision_reference(models, name, device, **kwargs)` (RegNet's).
    """
    import torch

    models = import_torchvision().models
    declared = _declaration(name)
    per_name = getattr(declared, "torchvision_arguments", lambda n: {})(name)
    kwargs = {**getattr(declared, "TORCHVISION_ARGUMENTS", {}), **per_name, **kwargs}
    if hasattr(declared, "torchvision_reference"):
        return declared.torchvision_reference(models, name, device, **kwargs).eval()
    with torch.device(device or "cpu"):
        return getattr(models, name)(weights=None, **kwargs).eval()


class _GivenWeights:
    """Stands in for a torchvision `WeightsEnum` member whose state dict is already read,
    so that torchvision's own loader (its key renames, its strict load) loads a local file."""

    def __init__(self, state):
        self.state = state

    def get_state_dict(self, *args, **kwargs):
        return dict(self.state)


def torchvision_reference(name, state, **kwargs):
    """torchvision's `name` holding `state` ({key: torch tensor}), loaded as torchvision
    loads its published weights: through the builder module's own loader where it has one
    (DenseNet's renames the 2017 files' `norm.1`/`conv.1` keys), else `load_state_dict`,
    strictly (a missing or unexpected key is an error, not a random weight). A state with
    auxiliary heads loads into the model built with them (`aux_logits=True`, as the
    builders do for published weights), which then leaves them out, as they do.

    Raises:
        ValueError: the state does not fit the model (the missing and unexpected keys).
    """
    import importlib

    builder = import_torchvision().models.get_model_builder(name)
    reference = torchvision_model(name, **kwargs)
    extra = set(state) - set(reference.state_dict())
    # the builders take `aux_logits` through **kwargs: the model says whether it has heads
    aux = bool(extra) and hasattr(reference, "aux_logits")
    if aux:
        reference = torchvision_model(name, **{**kwargs, "aux_logits": True})
    loader = getattr(importlib.import_module(builder.__module__), "_load_state_dict", None)
    try:
        if loader is not None:  # torchvision's loader with its key renames
            loader(reference, _GivenWeights(state), progress=False)
        else:
            reference.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise UserValueError(f"The checkpoint does not load strictly into torchvision's {name}: "
                             f"{' '.join(str(err).split())[:600]}") from None
    if aux:
        reference.aux_logits = False  # in inference the heads were never used
    return reference.eval()


def timm_reference(name, file):
    """timm's `name` holding the weights in `file`, loaded by timm's own pretrained loader
    (the model's checkpoint filter, a strict load)."""
    timm = import_timm()
    try:
        return timm.create_model(name, pretrained=True,
                                 pretrained_cfg_overlay={"file": str(file)}).eval()
    except RuntimeError as err:
        raise UserValueError(f"The checkpoint does not load strictly into timm's {name}: "
                             f"{' '.join(str(err).split())[:600]}") from None


def timm_model(name, device=None, **kwargs):
    import torch

    timm = import_timm()
    with torch.device(device or "cpu"):
        return timm.create_model(name, pretrained=False, **kwargs).eval()


def randomize(module, seed=0):
    """Random weights everywhere and random BatchNorm statistics.

    With fresh BatchNorm (mean 0, variance 1) a wrong epsilon, a missing
    BatchNorm or swapped statistics would still pass a comparison.
    """
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in list(module.state_dict(keep_vars=True).items()):
            if not tensor.is_floating_point():
                continue
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) * 1.5 + 0.5)
            elif name.endswith("running_mean"):
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.2)
            elif name.endswith(("bn1.weight", "bn2.weight", "bn3.weight")) or ".norm" in name \
                    or name.endswith("bn.weight"):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            else:
                fan_in = max(1, int(np.prod(tensor.shape[1:])) if tensor.ndim > 1 else 1)
                tensor.copy_(torch.randn(tensor.shape, generator=generator) / fan_in ** 0.5)
    return module


def logits(module, images):
    """The reference's output for NHWC float images (numpy), in inference."""
    import torch

    with torch.no_grad():
        out = module(torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))))
    return out.numpy()


def logits_and_stages(module, name, images):
    """(logits, [feature map at each zoo stage end, NHWC numpy]) in one forward pass (hooks).

    `name`: the zoo model the reference stands for. Its family declares which of the
    reference's modules end its stages (`STAGE_MODULES`, or `stage_modules(reference)`),
    and how an output becomes the zoo's (`reference_stage(module name, output)`).
    """
    declared = _declaration(name)
    names = (declared.stage_modules(module) if hasattr(declared, "stage_modules")
             else declared.STAGE_MODULES)
    as_stage = getattr(declared, "reference_stage", lambda n, output: output)
    modules = dict(module.named_modules())
    captured = {}
    hooks = [modules[n].register_forward_hook(
        lambda m, i, o, n=n: captured.__setitem__(n, o)) for n in names]
    try:
        out = logits(module, images)
    finally:
        for hook in hooks:
            hook.remove()
    stages = [as_stage(n, captured[n]).detach().numpy().transpose(0, 2, 3, 1) for n in names]
    return out, stages
