# The two commands of the README: `make demo` (the main job) and `make test`.
# Both create .venv and install what they need on first use; later runs reuse it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.skvoice-installed
OUT ?= skvoice-report
PYTEST_ARGS ?=

.PHONY: install demo test test-slow lint format docs clean mutation bench bench-quick bench-smoke \
	bench-stale check-claims

$(STAMP): pyproject.toml tools/install_torch.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	sh tools/install_torch.sh $(BIN)/python
	$(BIN)/python -m pip install -e ".[dev,plot,ge2e,augment]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/skvoice demo --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --durations=15 $(PYTEST_ARGS)

# pytest exits 5 when no test is marked slow: not a failure.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m slow $(PYTEST_ARGS) || [ $$? -eq 5 ]

# Mutation testing of the modules that decide access (configured in pyproject.toml):
# prints the number of killed and surviving mutants.
mutation: $(STAMP)
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2 || true
	$(BIN)/python tools/mutation_report.py

# Every published number: the benchmarks write benchmarks/results/*.md and .rst, which
# the docs include. SO762 is the extracted speechocean762 folder
# (python -c "from skvoice.datasets import fetch_speechocean762; fetch_speechocean762()").
# DSP20 is a clone of github.com/zhongyuchen/DSPSpeech-20 (the check across domains).
SO762 ?= $(HOME)/skvoice_data/speechocean762
DSP20 ?= $(HOME)/skvoice_data/DSPSpeech-20
bench: $(STAMP)
	cd benchmarks && ../$(BIN)/python bench_features.py
	cd benchmarks && ../$(BIN)/python bench_cnn.py
	cd benchmarks && ../$(BIN)/python bench_real.py --data $(SO762)
	cd benchmarks && ../$(BIN)/python bench_crossdomain.py --data $(DSP20) --all-rows
	cd benchmarks && ../$(BIN)/python bench_uncertainty.py --data $(SO762)
	cd benchmarks && ../$(BIN)/python bench_uncertainty.py --data $(SO762) --cheap
	cd benchmarks && ../$(BIN)/python bench_operating_point.py --data $(SO762)
	cd benchmarks && ../$(BIN)/python ablation_real.py --data $(SO762)
	cd benchmarks && ../$(BIN)/python ablation_real.py --data $(DSP20) --corpus dspspeech20
	cd benchmarks && ../$(BIN)/python bench_cohort.py --data $(SO762)
	cd benchmarks && ../$(BIN)/python bench_cohort.py --data $(DSP20) --corpus dspspeech20
	cd benchmarks && ../$(BIN)/python bench_pretrained.py --data $(SO762)
	cd benchmarks && ../$(BIN)/python bench_encoder_pairs.py --data $(SO762)
	cd benchmarks && ../$(BIN)/python bench_enrolment.py
	cd benchmarks && ../$(BIN)/python bench_cache.py
	cd benchmarks && ../$(BIN)/python bench_streaming.py
	cd benchmarks && ../$(BIN)/python bench_cli.py
	cd benchmarks && ../$(BIN)/python bench_readme.py --tests
	cd benchmarks && ../$(BIN)/python bench_encoders.py --data-so762 $(SO762) --data-dsp20 $(DSP20)
	cd benchmarks && ../$(BIN)/python bench_choosing.py --data $(SO762) --cnn-seeds 5
	cd benchmarks && ../$(BIN)/python bench_cohort.py --data $(SO762) --encoder ge2e
	cd benchmarks && ../$(BIN)/python bench_cohort.py --data $(DSP20) --corpus dspspeech20 --encoder ge2e
	cd benchmarks && ../$(BIN)/python bench_demo.py --repeat 3

# Rerun only the result files whose measured code changed since their stamp
# (tools/check_stale.py lists them; each script declares MEASURES).
bench-stale: $(STAMP)
	$(BIN)/python tools/check_stale.py --commands --so762 $(SO762) --dsp20 $(DSP20) \
		| while read -r cmd; do echo "$$cmd"; PATH="$(CURDIR)/$(BIN):$$PATH" sh -c "$$cmd" || exit 1; done

# Every quoted number traced to its result file; the stale result files listed.
check-claims: $(STAMP)
	$(BIN)/python tools/check_claims.py
	$(BIN)/python tools/check_stale.py --quoted

# A few minutes: every script under benchmarks/ on tiny data (a speechocean762-shaped
# corpus it writes), results into a temporary folder; fails if one fails or writes
# no result file. CI runs it.
bench-smoke: $(STAMP)
	$(BIN)/python benchmarks/_smoke.py

# A few minutes: the same scripts on less data, written to *_quick files.
bench-quick: $(STAMP)
	cd benchmarks && ../$(BIN)/python bench_features.py --quick
	cd benchmarks && ../$(BIN)/python bench_cnn.py --quick --epochs 10 --seeds 0
	cd benchmarks && ../$(BIN)/python bench_real.py --data $(SO762) --quick --rows MFCC "speakers passed"
	cd benchmarks && ../$(BIN)/python bench_uncertainty.py --data $(SO762) --quick --cheap

lint: $(STAMP)
	$(BIN)/ruff check skvoice tests examples benchmarks docs/conf.py
	$(BIN)/ruff format --check skvoice tests examples benchmarks docs/conf.py

format: $(STAMP)
	$(BIN)/ruff format skvoice tests examples benchmarks docs/conf.py
	$(BIN)/ruff check --fix skvoice tests examples benchmarks docs/conf.py

docs: $(STAMP)
	$(BIN)/python -m pip install -e ".[docs]"
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) docs/_build docs/auto_examples docs/generated $(OUT)
