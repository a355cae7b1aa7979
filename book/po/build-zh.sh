#!/usr/bin/env bash
# Build the Chinese edition alone into ${1:-/tmp/proclab-zh}, for a translator's quick look;
# `cargo lab book` builds both editions and checks them.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/proclab-zh}
msgfmt --check --statistics -o /dev/null po/zh-CN.po
MDBOOK_BOOK__LANGUAGE=zh-CN mdbook build -d "$out"
echo "built the Chinese edition into $out"
