# pg_elt: PGXS build plus the project's own targets (demo, test, bench).
#
# The PGXS part is only included once PostgreSQL's development files are
# installed, so that "make demo" and "make test" can run on a fresh machine:
# they install what is missing first (scripts/setup.sh).

all:

PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config

EXTENSION = pg_elt
EXTVERSION = 0.2.0
MODULE_big = pg_elt
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
SQL_PARTS = $(sort $(wildcard src/sql/*.sql))
# Upgrades (docs/architecture.md, "Upgrades"): upgrade/pg_elt--*.sql are
# earlier releases' scripts, kept as they were released and installed as
# is; upgrade/FROM--$(EXTVERSION).sql is the hand-written part of the
# upgrade from release FROM, which scripts/build_upgrade.py completes with
# the replayable statements of src/sql/*.sql into pg_elt--FROM--$(EXTVERSION).sql.
DATA = $(sort $(wildcard upgrade/pg_elt--*.sql))
UPGRADE_FROM = $(patsubst upgrade/%--$(EXTVERSION).sql,%,\
	$(filter-out upgrade/pg_elt--%,$(wildcard upgrade/*--$(EXTVERSION).sql)))
UPGRADE_SCRIPTS = $(foreach v,$(UPGRADE_FROM),pg_elt--$(v)--$(EXTVERSION).sql)
DATA_built = pg_elt--$(EXTVERSION).sql $(UPGRADE_SCRIPTS)
EXTRA_CLEAN = pg_elt--$(EXTVERSION).sql $(UPGRADE_SCRIPTS) results output_iso tmp_check log \
	regression.diffs regression.out

PG_CPPFLAGS = -I$(srcdir)/src
# Warnings, not errors: the project's scripts (make test, make demo, CI,
# scripts/dev_check.sh) add -Werror through PGXS's COPT, so that a newer
# compiler's new warnings do not stop a packager's plain "make".
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers -Wno-cast-function-type
SHLIB_LINK = -lcurl -lcrypto -lz

# Test suites: pg_regress (sql/, expected/), isolation (test/specs,
# test/expected) and TAP (test/t).  Each brings up its own temporary
# instance with pg_elt preloaded.
# The same database encoding and collation whatever the machine's locale.
ENCODING = UTF8
NO_LOCALE = 1
REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --temp-instance=tmp_check/regress --temp-config=$(srcdir)/test/pg_elt_test.conf \
	--load-extension=pg_elt
ISOLATION = $(sort $(basename $(notdir $(wildcard test/specs/*.spec))))
ISOLATION_OPTS = --inputdir=$(srcdir)/test --temp-instance=tmp_check/isolation \
	--temp-config=$(srcdir)/test/pg_elt_test.conf --load-extension=pg_elt
TAP_TESTS = 1
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))

ifneq ($(wildcard $(PG_CONFIG)),)
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
endif

# After PGXS, which resets it: where the TAP tests' own helpers live.
PROVE_FLAGS = -I $(srcdir)/test/perl

pg_elt--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $(SQL_PARTS) > $@

pg_elt--%--$(EXTVERSION).sql: upgrade/%--$(EXTVERSION).sql $(SQL_PARTS) scripts/build_upgrade.py
	python3 $(srcdir)/scripts/build_upgrade.py $(EXTVERSION) $< $(SQL_PARTS) > $@.tmp
	mv $@.tmp $@

# Suites one by one, so that scripts/run_suites.sh can run all of them and
# report each.  They assume "make install" has been done.
.PHONY: check-regress check-isolation check-tap demo demo-stop test bench setup
check-regress:
	$(if $(REGRESS),$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS),@echo "no regression tests")
check-isolation:
	$(if $(ISOLATION),$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION),@echo "no isolation tests")
check-tap:
	$(if $(PROVE_TESTS),$(prove_installcheck),@echo "no TAP tests")

setup:
	./scripts/setup.sh
demo:
	./scripts/demo.sh
demo-stop:
	./scripts/demo_stop.sh
test:
	./scripts/test.sh
bench:
	./scripts/bench.sh
