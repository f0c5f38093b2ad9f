#!/bin/sh
# One-shot: once the Temporal server answers, creates verbatim's namespace (if missing) and registers
# the custom search attributes that verbatim's workflows upsert (domain/search-attributes.ts). verbatim
# also tries this at start through the operator API, but the deployment does not depend on it.
# Every step is idempotent, so it runs on every `docker compose up`.
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS is required}"
: "${NAMESPACE:=default}"
: "${RETENTION:=7d}"

# Retries a command: a freshly started server may answer health checks before its membership ring and
# namespace registry have settled.
retry() {
  attempt=1
  until "$@"; do
    if [ "$attempt" -ge 30 ]; then
      echo "gave up after $attempt attempts: $*" >&2
      return 1
    fi
    attempt=$((attempt + 1))
    sleep 3
  done
}

t() {
  temporal "$@" --address "$TEMPORAL_ADDRESS"
}

retry t operator cluster health

# Describe first, so that a retry after a create whose answer was lost does not fail on "already exists".
ensure_namespace() {
  t operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1 ||
    t operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"
}
retry ensure_namespace
echo "namespace: $NAMESPACE ready"

# Keep in step with domain/search-attributes.ts (test/deploy/compose.test.ts checks it).
retry t operator search-attribute create --namespace "$NAMESPACE" \
  --name VerbatimFileName --type Keyword \
  --name VerbatimColumn --type Keyword \
  --name VerbatimRows --type Int \
  --name VerbatimPhase --type Keyword \
  --name VerbatimFallbacks --type Int
echo "search attributes: registered on $NAMESPACE"
