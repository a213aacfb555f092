#!/usr/bin/env bash
# Restores a backup made by backup.sh into an EMPTY database, created here (it refuses one that exists, so a restore
# never mixes with live data). Point the service at it afterwards; it migrates forward if the backup is older.
# Usage: restore.sh DATABASE FILE.sql.gz [mariadb client options…]
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 DATABASE FILE.sql.gz [client options…]" >&2; exit 2; }
database=$1 file=$2; shift 2
client=$(command -v mariadb || command -v mysql) || { echo "the mariadb (or mysql) client is required" >&2; exit 1; }
[ -s "$file" ] || { echo "$file is missing or empty" >&2; exit 1; }
exists=$("$client" "$@" -N -e "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '$database'")
[ "$exists" = 0 ] || { echo "database $database exists; restore into a new one" >&2; exit 1; }
"$client" "$@" -e "CREATE DATABASE \`$database\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
gunzip -c "$file" | "$client" "$@" --default-character-set=utf8mb4 "$database"
echo "restored $file into $database ($("$client" "$@" -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '$database'") tables)"
