#!/usr/bin/env bash
# Regenerates miniapp-contract/openapi.json from the endpoints (the document the service serves at
# /openapi/v1.json in Development). Run it after changing any endpoint, and commit the result.
set -euo pipefail
cd "$(dirname "$0")"
EDUDING_WRITE_CONTRACT=1 dotnet test tests/EduDing.Api.Tests \
  --filter "FullyQualifiedName~OpenApiContractTests" --logger "console;verbosity=minimal"
echo "miniapp-contract/openapi.json regenerated"
