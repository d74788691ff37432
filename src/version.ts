/** mcpgate's own name and version, as announced to clients, upstreams and on `--version`. */
export const GATEWAY_NAME = 'mcpgate';
export const GATEWAY_VERSION = '0.1.0';
