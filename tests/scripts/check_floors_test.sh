#!/usr/bin/env bash
# scripts/check-floors on small made-up trees (an include down passes; one up, one beside and
# one into another room's private folder fail, naming file, line and include), then on this
# repository, which must pass.
set -euo pipefail
cd "$(dirname "$0")/../.."
check=$PWD/scripts/check-floors
fail() { echo "check_floors_test: $*" >&2; exit 1; }

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/docs" "$tree/gui/data" "$tree/gui/models" "$tree/gui/widgets" \
  "$tree/analyzer/include/tierscope/analyzer" "$tree/analyzer/join"
cat > "$tree/docs/architecture.md" <<'DOC'
```floors
analyzer/include
analyzer/join    -> analyzer/include
gui/data         -> analyzer/include
gui/models       -> gui/data
gui/widgets      -> gui/models
```
DOC
touch "$tree/analyzer/include/tierscope/analyzer/analyze.h" "$tree/analyzer/join/live_map.h" \
  "$tree/gui/widgets/view.h"
printf '#include "tierscope/analyzer/analyze.h"\n' > "$tree/gui/data/map.h"
printf '#include "data/map.h"\n#include "map_model.h"\n' > "$tree/gui/models/model.cc"
touch "$tree/gui/models/map_model.h"
"$check" --root "$tree" > "$tree/out" || fail "a tree whose includes all go down failed: $(cat "$tree/out")"

expect_failure() {  # FILE LINE-TEXT EXPECTED-MESSAGE
  if "$check" --root "$tree" > "$tree/out" 2>/dev/null; then fail "passed with $1 including $2"; fi
  grep -qF "$3" "$tree/out" || fail "for $2 in $1 expected '$3', got: $(cat "$tree/out")"
}
printf '#include "widgets/view.h"\n' >> "$tree/gui/models/model.cc"
expect_failure gui/models/model.cc widgets/view.h \
  'gui/models/model.cc:3: #include "widgets/view.h": gui/models includes gui/widgets, not a floor below it'
printf '#include "data/map.h"\n' > "$tree/gui/models/model.cc"

printf '#include "join/live_map.h"\n' >> "$tree/gui/data/map.h"
expect_failure gui/data/map.h join/live_map.h \
  'gui/data/map.h:2: #include "join/live_map.h": analyzer/join/live_map.h is private to its room'
printf '#include "tierscope/analyzer/analyze.h"\n' > "$tree/gui/data/map.h"

mkdir -p "$tree/gui/extra" && touch "$tree/gui/extra/new.cc"
expect_failure gui/extra/new.cc - 'gui/extra/new.cc: in no room of the floors list'
rm -r "$tree/gui/extra"

"$check" > "$tree/out" || fail "this repository breaks its floors: $(cat "$tree/out")"
echo "check_floors_test: ok"
