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

test: lint typecheck pytest pytest-other-pythons pytest-ft docs bench-smoke
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

# A free-threaded 3.13 (3.13t), built once into a cache folder outside the
# repository. `make test` runs the suite on it only where it is already built.
BUILD_FT := scripts/build-free-threaded-python
FT_VENV := .venv-ft
# The newest hypothesis with a cp313t wheel; the locked one builds from Rust.
FT_HYPOTHESIS := hypothesis==6.155.7

.PHONY: test-ft pytest-ft

# Builds 3.13t first if needed, which takes a few minutes.
test-ft:
	$(BUILD_FT) >/dev/null
	@$(MAKE) --no-print-directory pytest-ft

# The lock's versions of only what the suite imports: mypy and the other tools
# have no cp313t wheels.
pytest-ft: $(UV)
	@set -e; if ! interpreter=$$($(BUILD_FT) --if-built); then \
	  echo "Free-threaded Python 3.13t not built (make test-ft builds it): skipped"; exit 0; fi; \
	echo "== pytest on $$interpreter"; \
	$(UV) venv --quiet --allow-existing --python $$interpreter $(FT_VENV); \
	$(UV) export --quiet --frozen --no-hashes --no-emit-project \
	  --no-emit-package hypothesis -o $(FT_VENV)/constraints.txt; \
	$(UV) pip install --quiet --python $(FT_VENV) -c $(FT_VENV)/constraints.txt \
	  -e '.[progress,testing]' pytest pytest-timeout griffelib $(FT_HYPOTHESIS); \
	HYPOTHESIS_PROFILE=ci-quick $(FT_VENV)/bin/pytest -q

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
