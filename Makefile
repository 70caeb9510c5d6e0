# Every target creates the virtual environment it needs from uv.lock, so a
# fresh clone needs only Python 3.11 and make. uv itself is pinned and
# installed into .tools/ with pip.

PYTHON ?= python3.11
UV_VERSION := 0.13.9
PIP_INSTALL := install --quiet --disable-pip-version-check
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
# The demo's own environment: genpipe alone, no extras, no development tools.
DEMO_VENV := .venv-demo
# The other interpreters the test suite also runs on, where pyenv has them.
OTHER_PYTHONS := 3.12 3.13
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)

export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
export UV_NO_PROGRESS := 1
# Material prints an end-of-life banner on every build otherwise.
export NO_MKDOCS_2_WARNING := 1

.PHONY: demo test lint typecheck pytest pytest-other-pythons docs bench-smoke bench clean

demo: $(DEMO_VENV)/.synced
	$(DEMO_VENV)/bin/python examples/etl_demo.py

test: lint typecheck pytest pytest-other-pythons docs bench-smoke
	@echo "make test: all checks passed"

lint: $(VENV)/.synced
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.synced
	$(BIN)/mypy
	$(BIN)/basedpyright
	$(BIN)/python docs/snippets.py

pytest: $(VENV)/.synced
	HYPOTHESIS_PROFILE=ci $(BIN)/pytest -q

pytest-other-pythons: $(UV)
	@set -e; for version in $(OTHER_PYTHONS); do \
	  interpreter=$$(ls -d $(PYENV_ROOT)/versions/$$version.*/bin/python$$version 2>/dev/null | sort -V | tail -n 1); \
	  if [ -z "$$interpreter" ]; then echo "Python $$version not found: skipped"; continue; fi; \
	  echo "== pytest on $$interpreter"; \
	  UV_PROJECT_ENVIRONMENT=.venv-$$version $(UV) sync --quiet --frozen --python $$interpreter; \
	  HYPOTHESIS_PROFILE=ci-quick .venv-$$version/bin/pytest -q; \
	done

# Not --quiet: it hides the warnings that --strict fails on.
docs: $(VENV)/.synced
	$(BIN)/mkdocs build --strict
	$(BIN)/python docs/check_site.py site

bench-smoke: $(VENV)/.synced
	$(BIN)/python -m benchmarks --smoke

bench: $(UV)
	$(UV) sync --quiet --frozen --group bench --python $(PYTHON)
	$(BIN)/python -m benchmarks
	@touch $(VENV)/.synced

# The interpreter's own pip installs uv, when it has one: a venv without pip
# is made in a fraction of a second, where ensurepip takes several.
$(UV):
	$(PYTHON) -m venv --without-pip $(TOOLS)
	$(PYTHON) -m pip --python $(TOOLS)/bin/python $(PIP_INSTALL) uv==$(UV_VERSION) 2>/dev/null \
	  || { $(TOOLS)/bin/python -m ensurepip --default-pip >/dev/null \
	       && $(TOOLS)/bin/python -m pip $(PIP_INSTALL) uv==$(UV_VERSION); }

# uv installs the dev group (the development tools) by default.
$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --quiet --frozen --python $(PYTHON)
	@touch $@

$(DEMO_VENV)/.synced: $(UV) uv.lock pyproject.toml
	UV_PROJECT_ENVIRONMENT=$(DEMO_VENV) $(UV) sync --quiet --frozen --no-default-groups --python $(PYTHON)
	@touch $@

clean:
	rm -rf $(TOOLS) $(VENV) .venv-* site
