# Two commands do all the set-up on a fresh Debian machine:
#   make demo   installs everything and runs xmpcull on the bundled sample photos
#   make test   installs everything and runs the whole test suite
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_DIR ?= demo-out

.PHONY: setup demo test bench bench-quick plugin clean

setup:
	@VENV=$(VENV) scripts/setup.sh

demo: setup
	@rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	@cp -r fixtures/camera fixtures/photos fixtures/orientation fixtures/formats fixtures/raw $(DEMO_DIR)/
	@chmod -R u+w $(DEMO_DIR)
	@$(VENV)/bin/xmpcull run $(DEMO_DIR) --cache $(DEMO_DIR)/.cache.sqlite || \
		echo "(exit code $$?: 1 means some files were reported and skipped - the sample set has a RAW stub without a preview on purpose)"
	@echo
	@echo "Sidecars: $(DEMO_DIR)/**/*.xmp   Report: $(DEMO_DIR)/.xmpcull/report.json and report.csv"
	@echo "Read one back: exiftool -config \"\$$($(VENV)/bin/xmpcull exiftool-config)\" -XMP-xmpcull:all -Rating -Label $(DEMO_DIR)/camera/iphone_hdr_NO.xmp"

test: setup
	$(PY) -m pytest -n auto -q

bench: setup
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) bench/run_all.py

bench-quick: setup
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) bench/run_all.py --quick

plugin: setup
	$(PY) lr_plugin/build.py

clean:
	rm -rf $(DEMO_DIR) dist build *.egg-info
