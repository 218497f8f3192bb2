# vitaluxe_security — PGXS build of the extension (see README "Layout").
#
#   make && make install      build and install the shared library and SQL
#   make installcheck         pg_regress + isolation specs against a running server
#                             (test/run_all.sh starts one and runs everything)

EXTNAME      = vitaluxe_security
EXTVERSION   = 0.1.0
MODULE_big   = $(EXTNAME)
MODULEDIR    = extension

CORE_SRCS    = $(sort $(wildcard src/core/*.cpp src/core/*/*.cpp))
PG_SRCS      = $(sort $(wildcard src/pg/*.cpp src/pg/*/*.cpp))
OBJS         = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

# The install script is assembled from small files, one job each, in name order.
INSTALL_PARTS = $(sort $(wildcard sql/install/*.sql))
DATA_built   = $(EXTNAME)--$(EXTVERSION).sql
DATA         = control/$(EXTNAME).control

REGRESS      = $(basename $(notdir $(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=.
ISOLATION    = $(basename $(notdir $(sort $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation/results

PG_CONFIG   ?= pg_config
PG_INCLUDE_SERVER := $(shell $(PG_CONFIG) --includedir-server)

# PostgreSQL's headers are system headers to us: their warnings stay out, ours stay on.
PG_CPPFLAGS  = -isystem $(PG_INCLUDE_SERVER) -Isrc
# -MMD -MP: PGXS tracks no header dependencies for C++; without them a changed header
# leaves stale objects behind.
PG_CXXFLAGS  = -std=c++17 -Wall -Wextra -Wno-missing-field-initializers -MMD -MP
SHLIB_LINK   = -lcrypto -lstdc++ -Wl,-Bsymbolic-functions

EXTRA_CLEAN  = $(DATA_built) test/isolation/results build $(OBJS:.o=.d)

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Our own test databases (Makefile.global sets these unconditionally, so after the include).
CONTRIB_TESTDB   = vlx_regress
ISOLATION_TESTDB = vlx_isolation

# Debian builds PostgreSQL with LLVM: PGXS also compiles every .cpp to bitcode with clang.
override BITCODE_CXXFLAGS += -std=c++17

-include $(OBJS:.o=.d)

$(DATA_built): $(INSTALL_PARTS)
	cat $^ > $@

.PHONY: core-test
core-test:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build -j2
	cd build && ctest --output-on-failure
