"""pytest set-up shared by tests/ and the family tests in zoo/models/<family>/."""

import os
import shutil
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# XLA's CPU backend at LLVM -O0: the same results, and compiling JAX's random initializer
# for each new variable shape takes ~0.3 s instead of ~6 s here (models build 20x faster).
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")
# One JAX compilation cache for the session, shared with the Python processes tests start: a
# model reloaded in a new process compiles the same initializers and functions again otherwise.
_JAX_CACHE = None
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _JAX_CACHE = tempfile.mkdtemp(prefix="zoo-test-jax-cache-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _JAX_CACHE
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
# the shared test helpers (tests/model_checks.py, ...) import by name, for the tests in tests/
# and for the family tests beside their code in zoo/models/<family>/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests"))

# fails the session when a test is skipped outside its allow-list (tests/skip_guard.py)
pytest_plugins = ["skip_guard"]

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_and_policy():
    """Each test starts seeded, in float32, and leaves the global policy as it found it."""
    keras.utils.set_random_seed(0)
    policy = keras.config.dtype_policy()
    yield
    keras.config.set_dtype_policy(policy)


def pytest_collection_modifyitems(config, items):
    """`jax_only` tests are deselected outside the JAX pass: a deselection, not a skip."""
    if keras.backend.backend() == "jax":
        return
    other = [item for item in items if item.get_closest_marker("jax_only")]
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = [item for item in items if not item.get_closest_marker("jax_only")]


def pytest_sessionfinish(session, exitstatus):
    if _JAX_CACHE:
        shutil.rmtree(_JAX_CACHE, ignore_errors=True)
