#!/usr/bin/env bash
# Runs every test, the MySQL-backed ones included, on a fresh Debian machine (as root).
# Installs mariadb-server when missing, starts a throwaway server on a free loopback port with a temporary data
# directory, runs the whole suite against it and SQLite, and stops the server even when tests fail.
# Then checks the mini-app contract with Node.js tools (miniapp-contract/check.sh; installs nodejs/npm when missing).
# Extra arguments go to `dotnet test` (e.g. ./test.sh --filter FullyQualifiedName~Lease).
set -euo pipefail
cd "$(dirname "$0")"

log() { printf '[test.sh] %s\n' "$*" >&2; }

if ! command -v dotnet >/dev/null 2>&1; then
  log "the .NET 10 SDK (dotnet) is required"; exit 1
fi

if ! command -v mariadbd >/dev/null 2>&1 && ! command -v mysqld >/dev/null 2>&1; then
  log "installing mariadb-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq mariadb-server >/dev/null
fi
server_bin=$(command -v mariadbd || command -v mysqld)
install_db=$(command -v mariadb-install-db || command -v mysql_install_db)
admin_bin=$(command -v mariadb-admin || command -v mysqladmin)

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=""
for _ in $(seq 1 50); do
  candidate=$(( 20000 + RANDOM % 30000 ))
  if ! port_in_use "$candidate"; then port=$candidate; break; fi
done
[ -n "$port" ] || { log "no free loopback port found"; exit 1; }

work=$(mktemp -d /tmp/eduding-mariadb.XXXXXX)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    log "stopping MariaDB (pid $server_pid)"
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

log "starting a throwaway MariaDB on 127.0.0.1:$port (data in $work)"
"$install_db" --no-defaults --user=root --datadir="$work/data" --auth-root-authentication-method=normal \
  --skip-test-db >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; exit 1; }
"$server_bin" --no-defaults --user=root --datadir="$work/data" --socket="$work/mysqld.sock" \
  --pid-file="$work/mysqld.pid" --bind-address=127.0.0.1 --port="$port" --skip-name-resolve \
  --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 --max-connections=500 \
  --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
  if "$admin_bin" --no-defaults --protocol=tcp -h127.0.0.1 -P"$port" -uroot ping >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/server.log" >&2; log "MariaDB did not start"; exit 1; fi
  sleep 0.5
done
"$admin_bin" --no-defaults --protocol=tcp -h127.0.0.1 -P"$port" -uroot ping >/dev/null

export EDUDING_TEST_MYSQL="Server=127.0.0.1;Port=$port;User ID=root;Password=;"
# Here a missing or unreachable server fails the MySQL tests instead of skipping them.
export EDUDING_TEST_MYSQL_REQUIRED=1

results="$work/results"
status=0
dotnet test EduDing.sln --logger "trx;LogFilePrefix=results" --results-directory "$results" "$@" || status=$?

# Count outcomes from the trx files: the total line, and how many tests of MySql*Tests classes ran.
passed=0; failed=0; skipped=0; mysql_ran=0; mysql_skipped=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  while IFS= read -r line; do
    outcome=$(sed -n 's/.* outcome="\([A-Za-z]*\)".*/\1/p' <<<"$line")
    name=$(sed -n 's/.* testName="\([^"]*\)".*/\1/p' <<<"$line")
    case "$outcome" in
      Passed) passed=$((passed + 1)) ;;
      Failed) failed=$((failed + 1)) ;;
      *) skipped=$((skipped + 1)) ;;
    esac
    if [[ "$name" =~ \.MySql[A-Za-z]*Tests\. ]]; then
      if [ "$outcome" = Passed ] || [ "$outcome" = Failed ]; then mysql_ran=$((mysql_ran + 1)); else mysql_skipped=$((mysql_skipped + 1)); fi
    fi
  done < <(grep -o '<UnitTestResult [^>]*>' "$trx")
done

# The contract with the front-end's tools: OpenAPI lint, types.ts drift, the typed example (miniapp-contract/check.sh).
contract_status=0
miniapp-contract/check.sh || contract_status=$?
if [ "$contract_status" -ne 0 ]; then
  log "the contract checks failed (miniapp-contract/check.sh)"
  status=1
fi

echo "MySQL-backed tests executed: $mysql_ran, skipped: $mysql_skipped"
if [ "$mysql_skipped" -gt 0 ] || [ "$mysql_ran" -eq 0 ]; then
  log "MySQL-backed tests must run here, not skip"
  status=1
fi
echo "total: $passed passed, $failed failed, $skipped skipped"
exit "$status"
