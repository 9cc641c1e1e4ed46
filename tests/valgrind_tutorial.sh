#!/bin/sh
# valgrind on `weightinit init` for the seed tutorial's golden cases: no
# leak, no invalid access.  Skipped (exit 77) where valgrind is missing.
set -eu
command -v valgrind >/dev/null 2>&1 || exit 77
exe=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
n=0
for case in "$data"/cases/tutorial_*; do
    name=$(basename "$case")
    grep -q '"functional"' "$case/args.json" && continue
    grep -q '"Pretrained"' "$case/model.json" && ! [ -e "$(dirname "$exe")/../plugins/wi_pretrained.so" ] && continue
    cp "$data"/golden/"$name"/*.pth . 2>/dev/null || true
    valgrind -q --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
        --error-exitcode=3 "$exe" init "$case/model.json" -q -o out.safetensors \
        --report report.json
    n=$((n + 1))
done
echo "valgrind: $n tutorial cases, no leak and no error"
[ "$n" -gt 0 ]
