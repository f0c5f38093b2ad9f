# verbatim: one image for the API (`serve --no-worker`) and the workers (`worker`); see docs/deploy.md.
#
# Debian slim, not Alpine: the Temporal core bridge (the worker's native part) ships prebuilt binaries
# for glibc only. The tag is pinned to a patch release, so that a rebuild gets the same Node.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ---- build: all dependencies, TypeScript to dist/, the prebuilt workflow bundle, the web page ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Dependencies first, in their own layer: a change of source code does not reinstall them. No install
# scripts: ours (postinstall) finds or builds the Temporal CLI for local runs, which an image never needs
# (and scripts/ is not copied yet); those of @swc/core, esbuild and protobufjs only check a binary or warn,
# and the native binaries come prebuilt in their npm packages.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# dist/cli/main.js (the entry point), dist/workflow-bundle.js (every worker runs byte-identical workflow
# code and starts without webpack), dist/api/public (the web page).
RUN npm run build \
  && test -f dist/cli/main.js \
  && test -f dist/workflow-bundle.js \
  && test -f dist/api/public/index.html

# ---- runtime: production dependencies and the compiled output only, as an unprivileged user ----
# NODE_OPTIONS caps V8's old space at 1 GiB. Without a cap V8 sizes the heap from the host's memory (4 GiB on a
# 24 GiB host) and lets garbage reach about four times the live set before a full collection: a million-row
# job's worker peaked over 1 GiB with at most ~330 MiB live (README, "A million answers in one job").
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-old-space-size=1024 \
    DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
# No devDependencies (TypeScript, tsx, vitest...): the compiled code needs none of them. The core
# bridge's native binary comes inside its npm package, so nothing is downloaded at install time and no
# install script is needed (the same as in the build stage).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY deploy/healthcheck.sh ./deploy/healthcheck.sh
# DATA_DIR holds uploads, batches and outputs. Created here and owned by `node`, so that a fresh named
# volume mounted on it takes this owner and the unprivileged process can write to it.
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
# For the API: /healthz (which also asks Temporal); for a worker: its heartbeat file is fresh and the
# Temporal frontend is reachable.
# The script tells them apart from the command the container runs.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["sh", "/app/deploy/healthcheck.sh"]
# The app handles SIGTERM itself (the API drains, a worker lets running batches finish for
# SHUTDOWN_GRACE seconds); compose runs it under an init (`init: true`) that forwards the signal.
# The image has no Temporal CLI for an embedded server: give TEMPORAL_ADDRESS, as compose does.
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve"]
