# Two commands do all the set-up: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

ELEMENT := tests/element
ELEMENT_STAMP := $(ELEMENT)/node_modules/.package-lock.json

.PHONY: run test bench clean catalogs element

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

catalogs: $(STAMP)
	$(PY) -m handlers.compile_catalogs

run: $(STAMP) catalogs
	$(VENV)/bin/weerbaar run --playground-when-unconfigured --config $${WEERBAAR_CONFIG:-config.toml}

# Element's own crypto (matrix-js-sdk) for tests/test_matrix_element.py, pinned by package-lock.json.
# Without npm the test is skipped locally and fails on CI (CI=true).
$(ELEMENT_STAMP): $(ELEMENT)/package.json $(ELEMENT)/package-lock.json
	@if command -v npm >/dev/null; then cd $(ELEMENT) && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the Element crypto test cannot run"; fi

element: $(ELEMENT_STAMP)

test: $(STAMP) catalogs element
	$(PY) -m pytest -q $(PYTEST_ARGS)

# The playground's browser test drives Debian's Chromium (never a downloaded browser build);
# the emoji font makes its screenshots show the bot's emoji.
.PHONY: chromium
test: chromium
chromium:
	@test -x /usr/bin/chromium || { apt-get update -q && apt-get install -y -q chromium fonts-noto-color-emoji; } \
	  || echo "could not install chromium; the browser test skips (and fails under CI=true)"

bench: $(STAMP)
	$(PY) bench/run.py; pipeline=$$?; $(PY) bench/national.py && exit $$pipeline

clean:
	rm -rf $(VENV) $(ELEMENT)/node_modules
