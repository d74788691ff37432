# syntax=docker/dockerfile:1
# mcpgate as a container: Streamable HTTP on 0.0.0.0:8848, config mounted at /config.
# Build: docker build -t mcpgate .   Run: docker run -p 8848:8848 -v $PWD/config:/config:ro mcpgate

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    MCPGATE_CONFIG=/config
WORKDIR /app
# bubblewrap: the sandbox of stdio upstreams (needs a seccomp/AppArmor profile allowing namespaces: docs/container.md)
RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY schema ./schema
# The audit log must live on a writable volume; point gateway.yaml audit.file at /var/log/mcpgate/.
RUN mkdir -p /config /var/log/mcpgate && chown node:node /var/log/mcpgate
USER node
VOLUME ["/var/log/mcpgate"]
EXPOSE 8848
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8848/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
ENTRYPOINT ["node", "/app/dist/main.js"]
CMD ["serve", "--transport", "http", "--host", "0.0.0.0", "--port", "8848"]
