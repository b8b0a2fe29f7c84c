#!/usr/bin/env bash
# The main job: builds libmsgstore and the C demo, then runs it (several clients, one message).
# Usage: bash demo.sh [--non-interactive] [--choice=k|o|s|m] [--store LOCATION]
#   LOCATION: a store file (default: a fresh one, removed afterwards) or a PostgreSQL store,
#   postgresql://[user@]host[:port]/database?store=NAME (the libpq URI plus store=).
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --lib --quiet
mkdir -p target/c-tests
cc -std=c11 -Wall -Wextra -Werror -pedantic -O2 -Iinclude c-tests/demo.c \
  target/release/libmsgstore.a -lpthread -ldl -lm -o target/c-tests/demo
exec target/c-tests/demo "$@"
