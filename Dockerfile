# syntax=docker/dockerfile:1
# Amphi's image: one binary, every role (`docker run IMAGE poller`, `... scaler --config F`).
# docs/image.md explains how to build and run it.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: compile TypeScript (dev dependencies needed) -------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-assets.mjs scripts/
COPY src/ src/
COPY scaler/ scaler/
# tsc -p tsconfig.build.json writes dist/src and dist/scaler; copy-assets adds the Lua scripts.
RUN npm run build

# --- runtime: production dependencies and the compiled code only ----------------------------
FROM ${NODE_IMAGE} AS runtime
# HOST: the settings default to 127.0.0.1, unreachable from outside a container.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8090
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist/ dist/
# The shipped capacity policies: the default AMPHI_POLICY_DIR resolves to /app/policies.
COPY policies/ policies/
# The node image's unprivileged user, by number so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8090
# Docker only (Kubernetes uses the chart's probes): GET /health of the role PID 1 runs, the
# gateway (and `all`) on PORT, the poller and the scaler on AMPHI_METRICS_PORT. No curl in slim.
# The ports are parsed as the settings do: unset or empty is the default, 0 means no listener
# (AMPHI_METRICS_PORT=0: metrics off), so there is nothing to check and the container is healthy.
# Only the environment is seen: ports given in an AMPHI_CONFIG file are not (docs/image.md).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const a=require('fs').readFileSync('/proc/1/cmdline','utf8').split('\\0');const i=a.findIndex(x=>x.endsWith('dist/src/cli/main.js'));const role=i<0?'gateway':a[i+1]||'gateway';const num=(v,d)=>(v||'').trim()===''?d:Number(v);const port=role==='poller'||role==='scaler'?num(process.env.AMPHI_METRICS_PORT,9465):['gateway','all'].includes(role)?num(process.env.PORT,8090):0;if(port===0)process.exit(0);if(!Number.isInteger(port))process.exit(1);fetch('http://127.0.0.1:'+port+'/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["gateway"]
