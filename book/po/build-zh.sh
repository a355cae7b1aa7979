#!/usr/bin/env bash
# Build the Chinese edition alone into ${1:-/tmp/proclab-zh}, for a translator's quick look;
# `cargo lab book` builds both editions and checks them.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/proclab-zh}
msgfmt --check --statistics -o /dev/null po/zh-CN.po
MDBOOK_BOOK__LANGUAGE=zh-CN MDBOOK_BOOK__TITLE="proclab —— 进程、信号与 Linux 内核，一个实验接一个实验" mdbook build -d "$out"
echo "built the Chinese edition into $out"
