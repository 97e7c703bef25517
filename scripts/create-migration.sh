#!/usr/bin/env bash
# Creates migrations/NNNN_NAME.up.sql and migrations/NNNN_NAME.down.sql, NNNN being one more than the
# highest number already in migrations/ (4 digits). NAME: lower-case letters, digits and underscores.
#
#   scripts/create-migration.sh add_rooms      (or: make create-migration name=add_rooms)
set -euo pipefail

cd "$(dirname "$0")/.."

name="${1:-}"
if [ -z "$name" ]; then
    echo "usage: make create-migration name=NAME   (NAME matching [a-z0-9_]+, e.g. add_rooms)" >&2
    exit 2
fi
if ! [[ "$name" =~ ^[a-z0-9_]+$ ]]; then
    echo "create-migration: invalid name '$name': use only lower-case letters, digits and underscores ([a-z0-9_]+)" >&2
    exit 2
fi

mkdir -p migrations
for file in migrations/[0-9][0-9][0-9][0-9]_"$name".up.sql; do
    if [ -e "$file" ]; then
        echo "create-migration: a migration named '$name' already exists: $file" >&2
        exit 1
    fi
done
highest=0
for file in migrations/*.sql; do
    [ -e "$file" ] || continue
    base="${file##*/}"
    if [[ "$base" =~ ^([0-9]{4})_ ]]; then
        number=$((10#${BASH_REMATCH[1]}))
        if [ "$number" -gt "$highest" ]; then highest=$number; fi
    fi
done
next=$((highest + 1))
if [ "$next" -gt 9999 ]; then
    echo "create-migration: migration numbers are exhausted (9999)" >&2
    exit 1
fi
prefix=$(printf '%04d_%s' "$next" "$name")
up="migrations/$prefix.up.sql"
down="migrations/$prefix.down.sql"
for file in "$up" "$down"; do
    if [ -e "$file" ]; then
        echo "create-migration: $file already exists" >&2
        exit 1
    fi
done

printf -- '-- %s: what this migration adds or changes.\n' "$prefix" >"$up"
printf -- '-- %s: undoes %s exactly.\n' "$prefix" "${up##*/}" >"$down"
echo "created $up"
echo "created $down"
