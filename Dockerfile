# syntax=docker/dockerfile:1
#
# Portcullis container image (docs/operations.md, "Docker").
#
#   docker build -t portcullis:0.1.0 .
#   docker run --rm -p 8080:8080 portcullis:0.1.0          # the demo config below; mount your own:
#   docker run --rm -p 8080:8080 -v "$PWD/gw.yaml:/etc/portcullis/gateway.yaml:ro" --read-only portcullis:0.1.0
#
# Two stages: `build` compiles the TypeScript with the dev dependencies; the runtime stage has the
# production dependencies, the compiled dist/src and config/ only (no sources, no compiler, no npm).
# test/packaging/dockerfile.test.ts runs this file's runtime stage without a container engine: the
# same `npm ci` line in a temp directory, the COPY sources, then ENTRYPOINT + CMD and HEALTHCHECK.

# A current Node LTS on Debian slim. Override with --build-arg NODE_IMAGE=… (a digest, for pinning).
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# Production dependencies only (no install scripts: none of them needs one). The npm cache stays in
# the build cache mount, and npm itself is removed afterwards: nothing at runtime installs anything.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
COPY --from=build /src/dist/src ./dist/src
# config/: the dev JWKS (and the dev key `portcullis token` signs with), the JSON Schema for editors,
# and the example configs. The config the CMD serves is /etc/portcullis/gateway.yaml.
COPY config ./config
COPY config/docker/gateway.yaml /etc/portcullis/gateway.yaml

# A numeric, non-root user (Kubernetes runAsNonRoot can only verify a numeric USER). Everything above
# belongs to root and is read-only to it; the process writes nothing (logs go to stdout), so the
# container runs with a read-only root filesystem (docker run --read-only, readOnlyRootFilesystem).
RUN groupadd --system --gid 10001 portcullis \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin portcullis
USER 10001:10001

# Ports of config/docker/gateway.yaml (and config/k8s/); every one is set by the config file, not here:
#   8080  listeners.http   edge proxy, plain HTTP
#   8443  listeners.https  edge proxy, TLS + HTTP/2 (when the config has an https listener and a certificate)
#   8081  listeners.auth   forward-auth endpoints for NGINX / ingress-nginx, Traefik, Envoy
#   9090  listeners.admin  /healthz /readyz /metrics — bound to 0.0.0.0 in the container config so probes
#                          and Prometheus can reach it; do not publish it to the outside
EXPOSE 8080 8443 8081 9090

# Liveness: the admin listener's /healthz, asked with Node itself (slim images have no curl or wget).
# PORTCULLIS_HEALTHCHECK_URL points it elsewhere: another admin port, or /readyz (docker-compose.yml).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "require('node:http').get(process.env.PORTCULLIS_HEALTHCHECK_URL || 'http://127.0.0.1:9090/healthz', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1)).setTimeout(2000, () => process.exit(1))"]

# Node is PID 1 and handles the signals itself: SIGTERM/SIGINT drain and exit 0, SIGHUP reloads
# the config (docs/operations.md, "Runbook: config reload").
ENTRYPOINT ["node", "dist/src/main.js"]
CMD ["serve", "--config", "/etc/portcullis/gateway.yaml"]
