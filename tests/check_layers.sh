#!/usr/bin/env bash
# The folders of src/ are layers: a file may include headers of its own folder, of the public API
# (include/rcfd/) and of folders below its own, never of a folder above it or beside it. The order
# is docs/ARCHITECTURE.md's, lowest first; folders on one line are siblings (neither includes the
# other). Fails naming every include that breaks it, and any folder the order does not list.
#   usage: check_layers.sh [SRC_DIR]
set -euo pipefail
src=${1:-$(dirname "$0")/../src}
layers=(
    "common"
    "rcf hotspots"
    "score"
    "models"
    "config net"
    "admin state sinks"
    "stream"
    "sources"
    "train"
    "backtest kda"
    "cli"
)
declare -A rank
for i in "${!layers[@]}"; do
    for f in ${layers[$i]}; do rank[$f]=$i; done
done

bad=0 checked=0
for dir in "$src"/*/; do
    folder=$(basename "$dir")
    if [ -z "${rank[$folder]+x}" ]; then
        echo "src/$folder: not in the layer order (add it to tests/check_layers.sh and ARCHITECTURE.md)"
        bad=$((bad + 1))
        continue
    fi
    for file in "$dir"*.c "$dir"*.h; do
        [ -e "$file" ] || continue
        while IFS=: read -r line target; do
            checked=$((checked + 1))
            case $target in
                rcfd/*) continue ;;                       # the public API
                */*) to=${target%%/*} ;;
                *)  [ -e "$dir$target" ] && continue      # same folder
                    echo "src/$folder/$(basename "$file"):$line: \"$target\" is not in src/$folder/"
                    bad=$((bad + 1)); continue ;;
            esac
            [ "$to" = "$folder" ] && continue
            if [ -z "${rank[$to]+x}" ]; then
                echo "src/$folder/$(basename "$file"):$line: includes \"$target\" from unknown folder $to"
                bad=$((bad + 1))
            elif [ "${rank[$to]}" -ge "${rank[$folder]}" ]; then
                rel=above; [ "${rank[$to]}" -eq "${rank[$folder]}" ] && rel=beside
                echo "src/$folder/$(basename "$file"):$line: includes \"$target\": $to is $rel $folder"
                bad=$((bad + 1))
            fi
        done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" |
                 sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1:\2/' || true)
    done
done
if [ "$bad" -ne 0 ]; then
    echo "$checked includes checked, $bad break the layer order"
    exit 1
fi
echo "$checked includes checked, none breaks the layer order"
