# Included by phpize's Makefile (config.m4). cargo tracks the Rust sources
# itself, so the rule always asks it; a no-op build takes about a second.
.PHONY: monei-cargo monei-clean

$(phplibdir)/monei_concurrency.so: monei-cargo
	@mkdir -p $(phplibdir)
	cp "$(MONEI_CARGO_TARGET_DIR)/release/libmonei_concurrency.so" $@

# A PECL tarball's crates (vendor.tar.gz) are unpacked beside cargo's output,
# out of reach of phpize's `make clean`, whose `find . -name '*.o' | xargs rm`
# would break vendored crates that ship object files.
MONEI_VENDOR_DIR = $(MONEI_CARGO_TARGET_DIR)/vendor
MONEI_VENDOR_STAMP = $(if $(MONEI_VENDOR_TARBALL),$(MONEI_VENDOR_DIR)/.unpacked)
MONEI_OFFLINE = $(if $(MONEI_VENDOR_TARBALL),--offline --config 'source.crates-io.replace-with="monei-vendored"' --config 'source.monei-vendored.directory="$(MONEI_VENDOR_DIR)"')

$(MONEI_VENDOR_DIR)/.unpacked: $(MONEI_VENDOR_TARBALL)
	rm -rf "$(MONEI_VENDOR_DIR)" && mkdir -p "$(MONEI_VENDOR_DIR)"
	tar -xzf "$(MONEI_VENDOR_TARBALL)" -C "$(MONEI_VENDOR_DIR)"
	touch $@

monei-cargo: $(MONEI_VENDOR_STAMP)
	PHP="$(PHP_EXECUTABLE)" PHP_CONFIG="$(MONEI_PHP_CONFIG)" RUSTC="$(RUSTC)" "$(CARGO)" build --release --locked \
		--manifest-path "$(MONEI_SRCDIR)/Cargo.toml" -p monei_concurrency \
		--target-dir "$(MONEI_CARGO_TARGET_DIR)" $(MONEI_OFFLINE)

# Only the build directory's own target/: a CARGO_TARGET_DIR given at
# configure time is the caller's cache. configure makes an include/ that
# stays empty here.
clean: monei-clean
monei-clean:
	rm -rf "$(top_builddir)/target"
	-rmdir "$(top_builddir)/include" 2>/dev/null
