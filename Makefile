# Two commands that work on a fresh machine with Python 3.11: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_VERSION ?= 2.13.0
# PyTorch's CPU wheels (about 200 MB) unless nvidia-smi sees a GPU: plain `pip install torch` pulls the CUDA build
# and its nvidia-* packages (several GB) even on a machine without a GPU. Override with TORCH_INDEX= to use PyPI's.
# --retries 0: where that index cannot be reached (an offline mirror), pip falls back to the others at once.
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_INDEX ?= $(shell nvidia-smi -L >/dev/null 2>&1 || echo --index-url $(TORCH_CPU_INDEX))

.PHONY: demo test install clean

$(VENV)/.installed: setup.py settings.ini
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q --retries 0 torch==$(TORCH_VERSION) $(TORCH_INDEX)
	$(PY) -m pip install -q -e .
	touch $@

install: $(VENV)/.installed

## the main job on the bundled demo data, offline: writes demo_esm_all.pt
demo: install
	$(VENV)/bin/esm2_batch --demo --out demo_esm_all.pt

## what CI runs
test:
	bash .ci/run

clean:
	rm -rf _proc _docs demo_esm_all.pt
