#!/usr/bin/env bash
# Regenerates the contract from the endpoints: miniapp-contract/openapi.json (the document the service serves at
# /openapi/v1.json in Development), surface.txt (what the breaking-change rule holds; see CHANGELOG.md) and types.ts
# (openapi-typescript). Run it after changing any endpoint, and commit the results.
set -euo pipefail
cd "$(dirname "$0")"
EDUDING_WRITE_CONTRACT=1 dotnet test tests/EduDing.Api.Tests \
  --filter "FullyQualifiedName~OpenApiContractTests" --logger "console;verbosity=minimal"
EDUDING_WRITE_CONTRACT=1 dotnet test tests/EduDing.Api.Tests --no-build \
  --filter "FullyQualifiedName~ContractSurfaceTests" --logger "console;verbosity=minimal"
(cd miniapp-contract && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npx --no-install openapi-typescript openapi.json -o types.ts)
echo "miniapp-contract/openapi.json, surface.txt and types.ts regenerated"
