#!/usr/bin/env bash
# Builds the mcpgate image from ./Dockerfile and runs it as docs/container.md documents it:
# config mounted read-only at /config (with an auth: section), state on a volume at
# /var/log/mcpgate. Checks /healthz, an authenticated tool call, and `audit verify` of the log the
# container wrote on the volume.
#
# For machines without Docker or registry access: the image is built with podman (chroot
# isolation) on a Debian bookworm base made with debootstrap, with this host's node and npm copied
# in as the `node:22-bookworm-slim` stand-in, and run with `buildah run --isolation=chroot` (some
# sandboxes cannot set the rlimits `podman run` sets). Needs root, podman, buildah, debootstrap.
# Not part of `npm test` (it takes minutes); run it by hand: scripts/container-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

for tool in podman buildah debootstrap curl; do
  if ! command -v "$tool" >/dev/null; then
    echo "container-smoke: $tool is missing; run: apt-get install -y --no-install-recommends podman buildah debootstrap curl" >&2
    exit 1
  fi
done
[ "$(id -u)" = 0 ] || { echo "container-smoke: run as root (debootstrap, chroot builds)" >&2; exit 1; }

BASE=localhost/mcpgate-smoke-base:bookworm
IMAGE=localhost/mcpgate:smoke
WORK=$(mktemp -d /tmp/mcpgate-smoke.XXXXXX)
CONTAINER=""
GATEWAY_PID=""
cleanup() {
  [ -n "$GATEWAY_PID" ] && kill "$GATEWAY_PID" 2>/dev/null || true
  [ -n "$CONTAINER" ] && buildah rm "$CONTAINER" >/dev/null 2>&1 || true
  if [ -n "${KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }

# 1. The base image: Debian bookworm (minbase) + this host's node and npm + a `node` user, as in node:22-bookworm-slim.
if ! podman image exists "$BASE"; then
  step "making the base image $BASE with debootstrap (once)"
  debootstrap --variant=minbase --include=libstdc++6,ca-certificates,passwd bookworm "$WORK/rootfs" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap.log"; exit 1; }
  install -m 0755 "$(command -v node)" "$WORK/rootfs/usr/local/bin/node"
  NPM_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  mkdir -p "$WORK/rootfs/usr/local/lib/node_modules"
  cp -a "$NPM_DIR" "$WORK/rootfs/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$WORK/rootfs/usr/local/bin/npm"
  chroot "$WORK/rootfs" useradd --create-home --uid 1000 --user-group --shell /bin/bash node
  # Trust what this host trusts (a TLS-intercepting proxy's CA, say): `npm ci` in the build reaches the registry.
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$WORK/rootfs/usr/local/share/ca-certificates/"
    chroot "$WORK/rootfs" update-ca-certificates >/dev/null
  fi
  tar -C "$WORK/rootfs" -c . | podman import --change 'CMD ["node"]' --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' - "$BASE" >/dev/null
  rm -rf "$WORK/rootfs"
fi

# 2. The image, from the repository's own Dockerfile (only the base image swapped).
step "building $IMAGE from ./Dockerfile"
sed "s#^FROM node:22-bookworm-slim#FROM $BASE#" Dockerfile >"$WORK/Dockerfile"
podman build --isolation=chroot --network=host -f "$WORK/Dockerfile" -t "$IMAGE" . 2>&1 | tail -5
echo "build context (after .dockerignore): $(tar --exclude-from=.dockerignore -c . 2>/dev/null | wc -c) bytes"

# 3. A config dir as the docs show it (auth: section, a server), and a state directory for the volume.
step "running it: config read-only at /config, state at /var/log/mcpgate"
mkdir -p "$WORK/config/servers.d" "$WORK/state"
chmod 0777 "$WORK/state" # the image runs as the unprivileged node user
KEY=smoke-test-hmac-key-0123456789abcdef0123
printf '%s' "$KEY" >"$WORK/jwt.key"
cat >"$WORK/config/gateway.yaml" <<'YAML'
auth:
  issuer: https://tokens.smoke/
  audience: mcpgate
  secret: ${file:/run/secrets/mcpgate-jwt}
YAML
cat >"$WORK/config/echo-server.mjs" <<'JS'
import { McpServer } from '/app/node_modules/@modelcontextprotocol/sdk/dist/esm/server/mcp.js';
import { StdioServerTransport } from '/app/node_modules/@modelcontextprotocol/sdk/dist/esm/server/stdio.js';
const server = new McpServer({ name: 'smoke-echo', version: '1.0.0' });
server.registerTool('echo', { description: 'echo', inputSchema: {} }, async (args, extra) => ({ content: [{ type: 'text', text: 'echo from inside the container' }] }));
await server.connect(new StdioServerTransport());
JS
cat >"$WORK/config/servers.d/echo.yaml" <<'YAML'
command: node
args: ["/config/echo-server.mjs"]
tools: { default: allow }
YAML
BEFORE=$(cd "$WORK/config" && find . | sort | md5sum)
PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
CONTAINER=$(buildah from "$IMAGE")
# buildah run (chroot isolation) mounts the image's own VOLUME and a -v bind on the same path in no
# fixed order; drop the anonymous volume from this working container so the bind (docker run -v) wins.
buildah config --volume /var/log/mcpgate- "$CONTAINER"
# The image's ENTRYPOINT + CMD, with the port moved off 8848 (buildah run does not apply ENTRYPOINT).
buildah run --isolation=chroot --network=host \
  -v "$WORK/config:/config:ro" -v "$WORK/state:/var/log/mcpgate" -v "$WORK/jwt.key:/run/secrets/mcpgate-jwt:ro" \
  "$CONTAINER" -- node /app/dist/main.js serve --transport http --host 0.0.0.0 --port "$PORT" >"$WORK/gateway.log" 2>&1 &
GATEWAY_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >"$WORK/health.json" 2>/dev/null && break
  kill -0 "$GATEWAY_PID" 2>/dev/null || { cat "$WORK/gateway.log"; echo "container-smoke: the gateway exited" >&2; exit 1; }
  sleep 0.3
done
echo "healthz: $(cat "$WORK/health.json")"

step "an authenticated tool call from outside the container"
node --input-type=module -e "
import { SignJWT } from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('smoke').setIssuer('https://tokens.smoke/').setAudience('mcpgate').setExpirationTime('5m').sign(new TextEncoder().encode('$KEY'));
const client = new Client({ name: 'container-smoke', version: '1.0.0' });
await client.connect(new StreamableHTTPClientTransport(new URL('http://127.0.0.1:$PORT/mcp'), { requestInit: { headers: { authorization: 'Bearer ' + token } } }));
for (let i = 0; i < 100 && !(await client.listTools()).tools.some((t) => t.name === 'echo__echo'); i++) await new Promise((r) => setTimeout(r, 200));
const result = await client.callTool({ name: 'echo__echo', arguments: {} });
console.log('tool result:', result.content[0].text);
await client.close();
const anonymous = await fetch('http://127.0.0.1:$PORT/mcp', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
console.log('without a token: HTTP', anonymous.status);
if (anonymous.status !== 401) process.exit(1);
"

step "stopping it (SIGTERM to the gateway), then verifying the audit log it left on the volume"
# chroot isolation shares this PID namespace: signal the gateway itself (found by its unique port), as `docker stop` would.
INNER=$(pgrep -f -- "^(/[^ ]*/)?node /app/dist/main.js serve --transport http --host 0.0.0.0 --port $PORT\$" || true)
[ -n "$INNER" ] && kill -TERM $INNER
wait "$GATEWAY_PID" || true
GATEWAY_PID=""
tail -2 "$WORK/gateway.log"
echo "state volume: $(cd "$WORK/state" && ls -A | tr '\n' ' ')"
[ -s "$WORK/state/mcpgate-audit.log" ] || { echo "container-smoke: no audit log on the state volume" >&2; exit 1; }
buildah run --isolation=chroot -v "$WORK/config:/config:ro" -v "$WORK/state:/var/log/mcpgate" "$CONTAINER" -- node /app/dist/main.js audit verify
AFTER=$(cd "$WORK/config" && find . | sort | md5sum)
[ "$AFTER" = "$BEFORE" ] || { echo "container-smoke: the gateway wrote into the read-only config dir" >&2; exit 1; }
echo "config dir: unchanged"
step "container smoke test passed"
