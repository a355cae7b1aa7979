#!/usr/bin/env bash
# Merge the translation parts (po/parts/*.po) into po/zh-CN.po and build the Chinese edition
# into ${1:-/tmp/proclab-zh}. For translators working on parts; `cargo lab book` builds both
# editions from po/zh-CN.po.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/proclab-zh}
if ls po/parts/*.po >/dev/null 2>&1; then
  msgcat --use-first po/parts/*.po -o /tmp/proclab-parts.po
  msgmerge --quiet --no-fuzzy-matching /tmp/proclab-parts.po po/messages.pot -o po/zh-CN.po
fi
msgfmt --check --statistics -o /dev/null po/zh-CN.po
MDBOOK_BOOK__LANGUAGE=zh-CN mdbook build -d "$out"
echo "built the Chinese edition into $out"
