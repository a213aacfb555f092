#!/usr/bin/env bash
# Checks the committed contract with the front-end's own tools (called by ../test.sh; ../contract.sh regenerates):
#  - the OpenAPI linter Redocly CLI (recommended rules, redocly.yaml) reports no error;
#  - types.ts is exactly what openapi-typescript makes of openapi.json (run ../contract.sh after changing an endpoint);
#  - example.ts, the README's typed example, compiles against types.ts with tsc --strict.
# Installs Node.js and npm from Debian when missing, and the pinned tools from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")"

log() { printf '[contract] %s\n' "$*" >&2; }

if ! command -v npm >/dev/null 2>&1; then
  log "installing nodejs and npm"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nodejs npm >/dev/null
fi

npm ci --no-audit --no-fund --loglevel=error >/dev/null

log "linting openapi.json (Redocly CLI, recommended rules)"
npx --no-install redocly lint openapi.json --config redocly.yaml --format=summary

generated=$(mktemp --suffix=.ts)
trap 'rm -f "$generated"' EXIT
npx --no-install openapi-typescript openapi.json -o "$generated" >/dev/null 2>&1
if ! diff -q "$generated" types.ts >/dev/null; then
  log "types.ts differs from what openapi-typescript makes of openapi.json; run ./contract.sh and commit it"
  diff -u types.ts "$generated" | head -40 >&2
  exit 1
fi
log "types.ts matches openapi.json"

npx --no-install tsc --noEmit --strict --target es2020 --lib es2020 --module es2020 --moduleResolution bundler example.ts
log "example.ts compiles against types.ts"
