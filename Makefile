# chargebus: `make run` starts the whole system locally, `make test` runs every test on a real broker.
VENV ?= .venv
PY := $(VENV)/bin/python
export KAFKA_BOOTSTRAP_SERVERS ?= 127.0.0.1:9092
PYTEST_ARGS ?=

.PHONY: help install kafka-start kafka-stop kafka-status provision run test lint types format check clean

help:  ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

install: $(VENV)/.installed  ## create .venv with the pinned dependencies (requirements.lock)

$(VENV)/.installed: pyproject.toml requirements.lock
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements.lock -e '.[dev,otel]'
	touch $@

kafka-start:  ## start the local single-node Kafka (fetches the jars once)
	deploy/local/kafka.sh start

kafka-stop:  ## stop the local Kafka this checkout started
	deploy/local/kafka.sh stop

kafka-status:
	deploy/local/kafka.sh status

provision: install  ## create every topic on $KAFKA_BOOTSTRAP_SERVERS
	$(PY) -m runtime provision

run: install  ## Kafka, topics, gateway, services and simulated stations, until Ctrl-C (FRESH=1: empty broker)
	deploy/local/run.sh

# The tests' broker is their own (port and data): what they write never shows in `make run`.
TEST_KAFKA_PORT ?= 19092

test: install  ## every test against a real broker of their own (port 19092; started and stopped here)
	deploy/local/ensure-chromium.sh
	deploy/k8s/ensure-kustomize.sh >/dev/null
	KAFKA_PORT=$${KAFKA_PORT:-$(TEST_KAFKA_PORT)} deploy/local/with-kafka.sh $(PY) -m pytest $(PYTEST_ARGS)

format:  ## rewrite the code in the project's format
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

types: install
	$(VENV)/bin/mypy

check: lint types test  ## format check, lint, mypy --strict, and every test

clean:  ## remove the venv and local broker data (not the cached jars)
	deploy/local/kafka.sh stop || true
	rm -rf $(VENV) deploy/local/.run .mypy_cache .ruff_cache .pytest_cache
