# monei_concurrency — build, test, demo, bench.
# `make demo` and `make test` install what is missing (Debian 12) and start
# their own throwaway redis-server (or use REDIS_URL when set); `make test`
# also its own MariaDB (or uses MARIADB_SOCKET when set).

EXT        := target/release/libmonei_concurrency.so
TOOLS      := tests/tools
PHP_CONFIG ?= php-config

.PHONY: all build test demo bench reliability install clean deps

all: build

build:
	@$(TOOLS)/deps.sh build
	cargo build --release

$(EXT): build

test: build
	@$(TOOLS)/deps.sh test
	$(TOOLS)/with-redis.sh $(TOOLS)/with-mariadb.sh $(TOOLS)/test.sh

demo: build
	@$(TOOLS)/deps.sh demo
	$(TOOLS)/with-redis.sh php -d extension=$(CURDIR)/$(EXT) php/demo/demo.php

bench: build
	@$(TOOLS)/deps.sh bench
	bench/run.sh

reliability: build
	@$(TOOLS)/deps.sh reliability
	tests/reliability/run.sh

install: build
	install -m 0755 $(EXT) "$$($(PHP_CONFIG) --extension-dir)/monei_concurrency.so"
	printf '; priority=30\nextension=monei_concurrency\n' > "/etc/php/$$($(PHP_CONFIG) --version | cut -d. -f1,2)/mods-available/monei_concurrency.ini"
	phpenmod monei_concurrency || true

clean:
	cargo clean
