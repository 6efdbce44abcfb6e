# Two commands do all set-up: `make run` (the whole system, embedded) and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := -e libs/telemetry -e libs/eventbus -e libs/servicedb -e libs/authn -e libs/httpapi \
	-e services/leads -e services/accounts -e services/support -e services/notify \
	-e gateway -e embedded -e admin
PYPROJECTS := $(wildcard libs/*/pyproject.toml services/*/pyproject.toml gateway/pyproject.toml embedded/pyproject.toml admin/pyproject.toml)

.PHONY: install proxy bench-tools run up down status migrate backup restore broker-users test test-unit lint bench mutation clean

$(STAMP): constraints.txt requirements-dev.txt $(PYPROJECTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements-dev.txt $(PACKAGES)
	touch $(STAMP)

install: $(STAMP)

## Whole system in one process: SQLite per service, in-process broker, demo users.
run: install
	$(BIN)/crm-embedded

## nginx, the front door of `make up` (installed with apt-get when root or password-less sudo
## allows; without it `make up` serves everything through the Python gateway).
proxy:
	@tools/ensure-package.sh nginx nginx-light

## Distributed mode: web (crm-web) + worker(s) per service, gateway, kept running by a supervisor;
## local RabbitMQ and PostgreSQL. Scale: make up WORKERS=leads=2,notify=3 WEB=leads=4
up: install proxy
	CRM_WORKERS="$(WORKERS)" CRM_WEB="$(WEB)" $(BIN)/python deploy/local/localctl.py up

down: install
	$(BIN)/python deploy/local/localctl.py down

status: install
	$(BIN)/python deploy/local/localctl.py status

## Every service's schema to this code's version (what `make up` does unless MIGRATE_ON_START=0).
migrate: install
	$(BIN)/python deploy/local/localctl.py migrate

## Back up / restore every service's database (the configured ones: <SERVICE>_DATABASE_URL or CRM_DATA_DIR).
backup: install
	$(BIN)/crm-backup $(if $(OUT),--out $(OUT))

restore: install
	$(BIN)/crm-restore $(BACKUP) --yes

## A RabbitMQ user per service on the local broker (needs rabbitmqctl); `make up` does it too.
broker-users: install
	$(BIN)/crm-broker-users apply --generate --passwords var/local/broker-users.json

## All tests. Integration tiers need CRM_TEST_DATABASE_URL / CRM_TEST_AMQP_URL (or Docker).
test: install
	$(BIN)/pytest

test-unit: install
	$(BIN)/pytest tests/unit

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

## wrk, the load generator of bench/gateway_overhead.py (Python clients without it).
bench-tools: proxy
	@tools/ensure-package.sh wrk wrk

bench: install bench-tools
	$(BIN)/python bench/run_all.py

## Mutation-test one pure rule module: make mutation MODULE=<path.py> TESTS="<test paths>"
.venv-mutation/.installed: constraints-mutation.txt
	$(PYTHON) -m venv .venv-mutation
	.venv-mutation/bin/pip install --quiet --disable-pip-version-check -c constraints-mutation.txt cosmic-ray
	touch $@

mutation: install .venv-mutation/.installed
	$(BIN)/python tools/mutation.py $(MODULE) $(TESTS)

clean:
	rm -rf $(VENV) .venv-mutation var
