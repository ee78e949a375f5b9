# keel: build, generate, test and benchmark. `make` installs what is missing (Debian packages,
# npm modules), builds the native addon and bundles the three executables into bin/.
SHELL := /bin/bash
PREFIX ?= /usr/local
NODE_GYP := node_modules/.bin/node-gyp
# Node's headers: next to the node binary, else the system's (npm here is configured with nodedir=/usr).
NODEDIR := $(shell for d in $$(dirname $$(dirname $$(readlink -f $$(command -v node)))) /usr; do \
	[ -f $$d/include/node/node_api.h ] && echo $$d && break; done)
ESBUILD := node_modules/.bin/esbuild
TSX := node --import tsx
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
VERSION := $(shell node -p "require('./package.json').version")
BUNDLEFLAGS := --bundle --platform=node --target=node20 --format=cjs --log-level=warning \
	--define:KEEL_VERSION='"$(VERSION)"' --define:KEEL_COMMIT='"$(COMMIT)"'
ESFLAGS := $(BUNDLEFLAGS) --banner:js='\#!/usr/bin/env node'
TS_SOURCES := $(shell find cmd src spec \( -name '*.ts' -o -name '*.json' \) -not -name '*.test.ts' 2>/dev/null)
NATIVE_SOURCES := $(shell find native/src native/include -name '*.c' -o -name '*.cc' -o -name '*.h' 2>/dev/null) native/binding.gyp
UNIT_TESTS = $(shell find src spec cmd -name '*.test.ts' 2>/dev/null | sort)
ALL_TESTS = $(UNIT_TESTS) $(shell find test native/test conformance -name '*.test.ts' 2>/dev/null | sort)
BINS := bin/keel bin/containerd-shim-keel-v2 bin/dock

.PHONY: all deps test-deps native build gen check-gen typecheck lint test test-unit bench install demo clean

all: deps native build

deps: node_modules/.deps-stamp
	@scripts/deps.sh build

test-deps:
	@scripts/deps.sh test

node_modules/.deps-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

native: native/build/Release/keel.node

native/build/Release/keel.node: $(NATIVE_SOURCES) node_modules/.deps-stamp
	cd native && ../$(NODE_GYP) rebuild --silent $(if $(NODEDIR),--nodedir=$(NODEDIR)) >/dev/null

build: $(BINS)

# keel starts through cmd/loader.js with a V8 code cache of its bundle (start-up counts: every
# containerd and podman operation runs it); the cache is recorded from a create that validates a
# whole config.json and then fails (no rootfs), so the validators' compiled code is in it.
bin/keel: dist/keel.js cmd/loader.js
	@mkdir -p bin
	install -m 0755 cmd/loader.js $@
	rm -f dist/keel.js.cache
	w=$$(mktemp -d) && node dist/keel.js spec --bundle $$w && \
	  KEEL_WRITE_CODE_CACHE=1 $@ --root $$w/state create --bundle $$w warmup 2>/dev/null; rm -rf $$w

dist/keel.js: $(TS_SOURCES) node_modules/.deps-stamp
	@mkdir -p dist
	$(ESBUILD) cmd/runtime/main.ts $(BUNDLEFLAGS) --outfile=$@

bin/containerd-shim-keel-v2: cmd/shim/containerd-shim-keel-v2.sh bin/containerd-shim-keel-v2.js
	install -m 0755 cmd/shim/containerd-shim-keel-v2.sh $@

bin/containerd-shim-keel-v2.js: $(TS_SOURCES) node_modules/.deps-stamp
	@mkdir -p bin
	$(ESBUILD) cmd/shim/main.ts $(ESFLAGS) $(MINIFY) --outfile=$@ && chmod +x $@
	@$(ASCII_ONLY)

# dock starts through the same loader and code cache as keel (every CLI call pays the start-up). It
# is three bundles, so a CLI call loads only the client: dist/dock.js (the CLI), dist/daemon-entry.js
# (`dock daemon`, run by the loader without the CLI) and dist/compose-entry.js (loaded by `dock
# compose`). The loader is run as `node -- bin/dock`: node 20 otherwise reads a user's
# `dock run --env-file F` as its own --env-file, wherever it appears in argv. The caches are recorded
# from runs that contact no engine (DOCKER_HOST names a socket nobody serves, so nothing auto-starts
# a daemon): compose's from `compose config -q` of scripts/compose-warmup.yaml (loading, validating
# and normalising a project is every `compose up`'s first ~35 ms, and compiled lazily otherwise), the
# others from --help; run --help goes last, as it rewrites dist/dock.js.cache.
DOCK_PARTS := dist/dock.js dist/daemon-entry.js dist/compose-entry.js
# bin/dock opens with two lines of sh (cmd/manager/dock-front.sh) in place of the loader's shebang;
# node reads the second one as a string and a comment. They run node on the loader with "--", and
# for `dock compose` they move NODE_EXTRA_CA_CERTS aside (the loader puts it back for every process
# the command starts): node reads and parses that file before any JS runs, ~40 ms of each start
# here, and compose never makes a TLS connection itself (its engine client has no TLS options).
bin/dock: $(DOCK_PARTS) dist/undici-entry.js cmd/loader.js cmd/manager/dock-front.sh scripts/compose-warmup.yaml
	@mkdir -p bin
	{ cat cmd/manager/dock-front.sh; tail -n +2 cmd/loader.js; } >$@ && chmod 0755 $@
	rm -f $(addsuffix .cache,$(DOCK_PARTS))
	w=$$(mktemp -d) && cp scripts/compose-warmup.yaml $$w/compose.yaml && mkdir $$w/conf && \
	  (cd $$w && DOCKER_HOST=unix://$$w/none.sock KEEL_WRITE_CODE_CACHE=1 $(CURDIR)/$@ compose -p warmup config -q); \
	  s=$$?; rm -rf $$w; exit $$s
	KEEL_WRITE_CODE_CACHE=1 $@ daemon --help >/dev/null
	KEEL_WRITE_CODE_CACHE=1 $@ run --help >/dev/null

dist/dock.js: $(TS_SOURCES) node_modules/.deps-stamp
	@mkdir -p dist
	$(ESBUILD) cmd/manager/main.ts $(BUNDLEFLAGS) --external:./daemon --external:./compose-entry --outfile=$@
	$(NODE_NAMESPACES) $@

# esbuild turns each `import * as fs from 'node:fs'` into __toESM(require("node:fs")), which copies
# every export of the module onto a new object as a getter: the CLI's 30 such imports cost its start
# about 10 ms of CPU (measured on `dock --version`; the compose bundle has 14). An object whose
# prototype is the module reads the same (and has the same .default) for nothing.
NODE_NAMESPACES := sed -i -e 's/__toESM(require("\(node:[a-z_/]*\)"))/__nodeNs(require("\1"))/g' \
	-e 's/^var __toESM = /var __nodeNs = (m) => Object.create(m, { default: { value: m, enumerable: true } });\nvar __toESM = /'

# The long-running programs keep their bundle's source in the heap for as long as they run: it is
# minified (whitespace and syntax only, so stack traces keep their names), the licence comments go
# to <bundle>.LEGAL.txt.
MINIFY := --minify-whitespace --minify-syntax --legal-comments=external
# ... and it must be ASCII: one other character (a regex literal esbuild cannot escape) makes V8
# keep the whole source as a two-byte string, twice the memory.
ASCII_ONLY = if LC_ALL=C grep -qn '[^[:print:][:space:]]' $@; then echo "$@: non-ASCII character (V8 would keep the source two bytes a character):"; LC_ALL=C grep -n -o '.\{0,30\}[^[:print:][:space:]]' $@ | head -3; rm -f $@; exit 1; fi

dist/daemon-entry.js: $(TS_SOURCES) node_modules/.deps-stamp
	@mkdir -p dist
	$(ESBUILD) cmd/manager/daemon.ts $(BUNDLEFLAGS) $(MINIFY) --external:undici --outfile=$@
	@$(ASCII_ONLY)

# undici, loaded by the daemon on its first pull or URL import (src/manager/images/registry/undici.ts).
# No code cache: no --help run loads it, and a pull is dominated by the network.
dist/undici-entry.js: node_modules/.deps-stamp cmd/manager/undici-entry.ts
	@mkdir -p dist
	$(ESBUILD) cmd/manager/undici-entry.ts $(BUNDLEFLAGS) $(MINIFY) --outfile=$@

dist/compose-entry.js: $(TS_SOURCES) node_modules/.deps-stamp
	@mkdir -p dist
	$(ESBUILD) cmd/manager/compose-entry.ts $(BUNDLEFLAGS) --outfile=$@
	$(NODE_NAMESPACES) $@

# Regenerates spec/types and spec/validators from the schemas in spec/ (never hand-edit those).
gen: node_modules/.deps-stamp
	$(TSX) scripts/gen-spec.ts

typecheck: node_modules/.deps-stamp
	node_modules/.bin/tsc -p tsconfig.json

lint: typecheck

test-unit: all
	node --import tsx --test --test-concurrency=1 $(UNIT_TESTS)

# Everything: unit, native, conformance, interop. CI runs this as root.
test: test-deps all typecheck
	node --import tsx --test --test-concurrency=1 $(ALL_TESTS)

bench: all
	$(TSX) bench/run.ts

demo: all
	scripts/demo.sh

install: all
	install -d $(PREFIX)/lib/keel/bin $(PREFIX)/lib/keel/native/build/Release $(PREFIX)/bin
	install -m 0755 $(BINS) $(PREFIX)/lib/keel/bin/
	install -m 0755 native/build/Release/keel.node $(PREFIX)/lib/keel/native/build/Release/
	install -d $(PREFIX)/lib/keel/dist && install -m 0644 dist/keel.js dist/keel.js.cache $(DOCK_PARTS) $(addsuffix .cache,$(DOCK_PARTS)) dist/undici-entry.js $(wildcard dist/*.LEGAL.txt) $(PREFIX)/lib/keel/dist/
	install -d $(PREFIX)/lib/keel/proto && install -m 0755 bin/containerd-shim-keel-v2.js $(PREFIX)/lib/keel/bin/ && install -m 0644 src/shim/proto/*.proto $(PREFIX)/lib/keel/proto/
	install -m 0644 bin/containerd-shim-keel-v2.js.LEGAL.txt $(PREFIX)/lib/keel/bin/
	for b in $(notdir $(BINS)); do ln -sf ../lib/keel/bin/$$b $(PREFIX)/bin/$$b; done

clean:
	rm -rf bin dist native/build
