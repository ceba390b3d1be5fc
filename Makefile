# Quick start on a fresh Debian machine with Python 3.11:  make demo  |  make test
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# PyTorch runs the multi-backend tests too; 2.13.0 is the CPU build these machines carry.
TORCH  ?= torch==2.13.0
# the torchvision release built against that torch (the ported-weights tests compare with it)
TORCHVISION ?= torchvision==0.28.0
STAMP  := $(VENV)/.installed

.PHONY: demo test install data test-tf test-jax test-torch test-faults test-keras-next clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev,jax,export,test]" $(TORCH) $(TORCHVISION)
	touch $(STAMP)

install: $(STAMP) data

data:
	@./scripts/install_data.sh

demo: install
	$(PY) scripts/train.py mlp --dataset fashion_mnist --epochs 5 --run-dir runs/demo

test: install test-tf test-jax test-torch

# -n 2 --dist loadfile: two pytest workers, each test file on one of them (its module
# fixtures built once); most tests keep one core busy, so two workers fill the machine
XDIST  := -n 2 --dist loadfile

test-tf:
	$(PY) -m pytest -q $(XDIST) tests zoo/models

test-jax:
	KERAS_BACKEND=jax $(PY) -m pytest -q $(XDIST) -m jax tests zoo/models

test-torch:
	KERAS_BACKEND=torch $(PY) -m pytest -q -m torch tests zoo/models

# Not part of `make test` (minutes): SIGKILL at every write point of a run and of a search,
# then resume; a real 1 MB tmpfs filling up (where mounting is allowed)
test-faults: install
	$(PY) -m pytest -q -m faults tests zoo/models

# Early warning, not part of `make test`: the unit tests (TensorFlow) against the newest
# keras and keras-tuner pre-releases, in their own .venv-next; failures are reported, not fatal.
test-keras-next:
	$(PYTHON) -m venv .venv-next
	.venv-next/bin/python -m pip install -q --upgrade pip
	.venv-next/bin/python -m pip install -q -e ".[dev,jax,test]" $(TORCH) $(TORCHVISION)
	.venv-next/bin/python -m pip install -q --pre --upgrade --no-deps keras keras-tuner
	@.venv-next/bin/python -c "import keras, keras_tuner; print('keras', keras.__version__, 'keras-tuner', keras_tuner.__version__)"
	-.venv-next/bin/python -m pytest -q -m "not slow" tests zoo/models || echo "test-keras-next: failures above are an early warning (allowed)"

clean:
	rm -rf $(VENV) .venv-next runs .pytest_cache
