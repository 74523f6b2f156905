# syntax=docker/dockerfile:1
# One image for the three services and the CLI; the command picks what runs:
#   docker run IMAGE up --services dispatcher            (NATS_URL, NATS_USER, NATS_PASSWORD, ...)
#   docker run IMAGE run examples/hello.yaml --watch
# Build: docker build -t orchestra .
ARG NODE_IMAGE=node:20-slim

# ---- manifests: every workspace's package.json and the lock, all that npm ci needs --------------
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/contracts/package.json libs/contracts/
COPY libs/execution/package.json libs/execution/
COPY libs/observability/package.json libs/observability/
COPY libs/bus/package.json libs/bus/
COPY libs/client/package.json libs/client/
# The test kit and the benchmark are not shipped, but npm ci needs every workspace's package.json.
COPY libs/testing/package.json libs/testing/
COPY services/orchestrator/package.json services/orchestrator/
COPY services/dispatcher/package.json services/dispatcher/
COPY services/results/package.json services/results/
COPY apps/console/package.json apps/console/
COPY apps/cli/package.json apps/cli/
COPY bench/package.json bench/

# ---- build: swc compiles every workspace into its dist/, vite the console's page -----------------------
FROM manifests AS build
# The root `prepare` script would build now, before the sources are here: build explicitly below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY .swcrc ./
COPY scripts/build.mjs scripts/
COPY libs libs
COPY services services
COPY apps apps
COPY bench bench
# Every workspace at once, without Nx (`npm run build` is Nx's cached build for developers and CI).
RUN node scripts/build.mjs

# ---- deps: production dependencies only ----------------------------------------------------------
FROM manifests AS deps
# --ignore-scripts: `prepare` runs the swc build, whose tools are dev dependencies left out here;
# the compiled dist/ folders come from the build stage. No production dependency needs a script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime ---------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini is PID 1: it passes SIGTERM on to node (`orchestra up` then stops pulling, drains in-flight
# work and closes its connection) and reaps child processes.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    LOG_FORMAT=json
WORKDIR /app
# node_modules holds the workspaces as links (node_modules/@orchestra/* -> ../../libs/...), which
# resolve to the package.json and dist/ copied next to them.
COPY --from=deps /app/package.json ./
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/libs/contracts/package.json libs/contracts/
COPY --from=build /app/libs/contracts/dist libs/contracts/dist
COPY --from=build /app/libs/execution/package.json libs/execution/
COPY --from=build /app/libs/execution/dist libs/execution/dist
COPY --from=build /app/libs/observability/package.json libs/observability/
COPY --from=build /app/libs/observability/dist libs/observability/dist
COPY --from=build /app/libs/bus/package.json libs/bus/
COPY --from=build /app/libs/bus/dist libs/bus/dist
COPY --from=build /app/libs/client/package.json libs/client/
COPY --from=build /app/libs/client/dist libs/client/dist
COPY --from=build /app/services/orchestrator/package.json services/orchestrator/
COPY --from=build /app/services/orchestrator/dist services/orchestrator/dist
COPY --from=build /app/services/dispatcher/package.json services/dispatcher/
COPY --from=build /app/services/dispatcher/dist services/dispatcher/dist
COPY --from=build /app/services/results/package.json services/results/
COPY --from=build /app/services/results/dist services/results/dist
# The console's server and its built page (dist/ui): `orchestra console`.
COPY --from=build /app/apps/console/package.json apps/console/
COPY --from=build /app/apps/console/dist apps/console/dist
COPY --from=build /app/apps/cli/package.json apps/cli/
COPY --from=build /app/apps/cli/dist apps/cli/dist
COPY --from=build /app/apps/cli/bin apps/cli/bin
COPY examples examples
# The `node` user of the base image, by number so that Kubernetes can check runAsNonRoot. The files
# stay root's: the application cannot change itself, and the root filesystem can be read-only.
# Only .orchestra/ is the user's: where `orchestra up` keeps the event log's signing key when
# ORCHESTRA_SIGNING_KEY is not set (a volume in docker-compose.yml; docs/audit.md).
RUN mkdir -p /app/.orchestra && chown 1000:1000 /app/.orchestra
USER 1000:1000
# Health and metrics endpoints (/health/live, /health/ready, /metrics).
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "node", "apps/cli/bin/orchestra.js"]
CMD ["up"]
