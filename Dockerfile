# syntax=docker/dockerfile:1
# mcpgate as a container: Streamable HTTP on 0.0.0.0:8848, config mounted read-only at /config,
# everything the gateway writes (audit log, tool pins, approval admin endpoint, "always allow"
# answers) on the /var/log/mcpgate volume. Serving beyond loopback needs client authentication:
# the mounted gateway.yaml must have an `auth:` section (docs/container.md, docs/auth.md).
# Build: docker build -t mcpgate .
# Run:   docker run -p 8848:8848 -v "$PWD/config:/config:ro" -v mcpgate-state:/var/log/mcpgate mcpgate

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:22-bookworm-slim AS runtime
# MCPGATE_STATE_DIR: where the gateway writes when gateway.yaml does not say (docs/container.md).
ENV NODE_ENV=production \
    MCPGATE_CONFIG=/config \
    MCPGATE_STATE_DIR=/var/log/mcpgate
WORKDIR /app
# bubblewrap: the sandbox of stdio upstreams (needs a seccomp/AppArmor profile allowing namespaces: docs/container.md)
RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY schema ./schema
RUN mkdir -p /config /var/log/mcpgate && chown node:node /var/log/mcpgate
USER node
VOLUME ["/var/log/mcpgate"]
EXPOSE 8848
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8848/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
ENTRYPOINT ["node", "/app/dist/main.js"]
CMD ["serve", "--transport", "http", "--host", "0.0.0.0", "--port", "8848"]
