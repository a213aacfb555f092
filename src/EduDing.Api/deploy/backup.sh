#!/usr/bin/env bash
# Backs up EduDing's MySQL/MariaDB database to one gzip'd SQL file, consistently while the service runs (InnoDB, one
# transaction: no instance needs to stop). Usage: backup.sh DATABASE FILE.sql.gz [mariadb client options…]
# e.g. backup.sh eduding /var/backups/eduding/$(date +%F).sql.gz -h db.internal -u backup   (password: ~/.my.cnf)
# docs/operations.md says what to keep, how often, and how to restore.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 DATABASE FILE.sql.gz [client options…]" >&2; exit 2; }
database=$1 file=$2; shift 2
dump=$(command -v mariadb-dump || command -v mysqldump) || { echo "mariadb-dump (or mysqldump) is required" >&2; exit 1; }
tmp="$file.partial"
"$dump" "$@" --single-transaction --quick --routines --triggers --hex-blob --default-character-set=utf8mb4 \
  --no-tablespaces "$database" | gzip -c > "$tmp"
mv "$tmp" "$file"   # a file under its final name is always complete
echo "backed up $database to $file ($(du -h "$file" | cut -f1))"
