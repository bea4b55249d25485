# ---- deps: every dependency, dev ones included, because the build needs tsc ----
FROM node:24-bookworm-slim AS deps
# argon2 builds its native addon from source when no prebuilt binary fits the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Only the manifests, so this layer is rebuilt when dependencies change, not on every edit.
# package.json "allowScripts" approves the install scripts of argon2 and esbuild, for npm
# releases that hold back unapproved ones.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# ---- build: compile, then drop dev dependencies from the same tree ----
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Pruning here (not a fresh install in the final stage) keeps the argon2 binary built above.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime ----
FROM node:24-bookworm-slim
ENV NODE_ENV=production
# A fixed numeric uid, so orchestrators can check runAsNonRoot and volumes can be chowned to it.
RUN groupadd --system --gid 10001 civic \
 && useradd --system --uid 10001 --gid civic --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin civic
WORKDIR /app
# Files stay owned by root: the process can read its code and templates but not change them.
COPY --from=build /app/node_modules ./node_modules
# package.json carries "type": "module", which makes Node load dist/*.js as ES modules.
COPY package.json ./
# The code finds templates at ../../views/ from dist/http/, i.e. /app/views.
COPY views ./views
# Defaults for CLIENTS_FILE and RESOURCE_SERVERS_FILE (relative to /app); mount real ones over them.
COPY config ./config
COPY --from=build /app/dist ./dist
USER 10001:10001
EXPOSE 3000
# The slim image has no curl; Node 24 has fetch. Liveness only: /readyz also checks the stores.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Operator commands: node dist/cli.js <command> (same environment as the server).
CMD ["node", "dist/main.js"]
