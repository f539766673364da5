#!/usr/bin/env bash
# The kvcache placer test names sites by keys that lab/site-keys reads from the disassembly.
# Here both ways are compared on ts-lab-sites, whose sites report their own return addresses
# at run time: the static reading must give the very keys the running program sees.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sites=${1:?usage: site_keys_agree.sh TS_LAB_SITES}
runtime=$("$sites" --keys)
static=$("$here/../../lab/site-keys" "$sites" hot=lab_site_hot cold=lab_site_cold unplanned=lab_site_unplanned)
echo "runtime:"; echo "$runtime"; echo "static:"; echo "$static"
[ "$(echo "$runtime" | wc -l)" -eq 3 ] || { echo "site_keys_agree: expected 3 runtime keys" >&2; exit 1; }
[ "$runtime" = "$static" ] || { echo "site_keys_agree: the keys differ" >&2; exit 1; }
