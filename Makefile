# Everything runs inside .venv, which this Makefile creates on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SHARED ?= ../shared
STAMP  := $(VENV)/.installed

.PHONY: venv run test lint typecheck pytest bench peers conformance fuzz clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

## The main job: run a sample workflow with the live trace.
run: venv
	$(BIN)/asl exec samples/order_pipeline/machine.asl.json \
		--input samples/order_pipeline/input.json \
		--mock-config samples/order_pipeline/MockConfigFile.json \
		--test-case HappyPath --clock virtual

## Lint, type-check and run the whole test suite (what CI runs).
test: lint typecheck pytest

lint: venv
	$(BIN)/ruff check asl runtime tests bench
	$(BIN)/ruff format --check asl runtime tests bench

typecheck: venv
	$(BIN)/mypy asl runtime

pytest: venv
	$(BIN)/pytest

bench: venv peers
	$(BIN)/python bench/run.py --shared $(SHARED)

## LocalStack's and moto's interpreters, which make bench runs beside ours, in a venv of
## their own outside the repo (pins from ../shared/bench/README.md). A failed install is
## said and the bench runs without them.
PEERS     ?= $(or $(ASL_PEERS_VENV),$(HOME)/.asl-peers)
PEER_PINS := "localstack-core==4.9.2" rolo jsonpatch jpype1 pydantic "moto[stepfunctions]==5.2.5"

peers:
	@test -f $(PEERS)/.installed || { echo "make bench: setting up the peers' venv in $(PEERS)"; \
		{ test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS); } \
		&& $(PEERS)/bin/python -m pip install -q $(PEER_PINS) && touch $(PEERS)/.installed; } \
		|| echo "make bench: the peers' venv could not be set up; their figures are left out"

## Hostile definitions, inputs and expressions: 10,000 + 10,000 cases in worker processes
## (1 GiB, 10 s of CPU a case); findings in tests/artifacts/fuzz-findings.jsonl.
fuzz: venv
	ASL_SHARED=$(abspath $(SHARED)) $(BIN)/python -m tests.fuzz.run

## The recorded AWS executions, through the asl command; in a store of their own, so a
## store another checkout migrated (or your executions) can neither break nor receive them.
conformance: venv
	store=$$(mktemp -d) && ASL_STORE=$$store/store.db \
		$(BIN)/python $(SHARED)/conformance/run.py --cmd $(abspath $(BIN))/asl -v; \
		status=$$?; rm -rf $$store; exit $$status

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache
