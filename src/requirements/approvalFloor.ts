/**
 * The managed floor under the approval settings: `approval.minTimeout` raises the timeout,
 * `allowAlways: false` forbids persisted "always" approvals, and `channel` says who may answer an
 * ask. With `channel: queue` an ask is answered only through the approval queue (`mcpgate
 * approve`), never by elicitation to the calling client (with `approval.channel: auto` a client
 * that declares elicitation answers its own asks, which is the agent itself when nobody sits at
 * it), and the sampling auto-reviewer (the calling client's own model) is switched off; with
 * `channel: none` every ask is a deny. A user's `none` stays `none` (stricter). Pure.
 */
import type { ApprovalChannel, ConfigProblem, GatewayConfig, ServerConfig } from '../config/types.js';
import type { ManagedRequirements } from './types.js';

/** The approval section and servers with the floor applied, and a warning for each user setting it overrides. */
export function applyApprovalFloor(
  config: GatewayConfig,
  servers: readonly ServerConfig[],
  requirements: ManagedRequirements,
): { approval: GatewayConfig['approval']; servers: readonly ServerConfig[]; problems: ConfigProblem[] } {
  const floor = requirements.approval;
  const problems: ConfigProblem[] = [];
  const where = (field: string) => `${requirements.file} approval.${field}`;
  const timeoutMs = Math.max(config.approval.timeoutMs, floor.minTimeoutMs ?? 0);
  if (timeoutMs !== config.approval.timeoutMs) {
    problems.push(warning('gateway.yaml', 'approval.timeout', `${config.approval.timeoutMs} ms raised to the managed minimum ${timeoutMs} ms (${where('minTimeout')})`));
  }
  let approval: GatewayConfig['approval'] = { ...config.approval, timeoutMs, allowAlways: config.approval.allowAlways && floor.allowAlways !== false };
  const forced = floor.channel;
  if (!forced) return { approval, servers, problems };
  const effective = (channel: ApprovalChannel): ApprovalChannel => (channel === 'none' ? 'none' : forced);
  const channel = effective(config.approval.channel);
  if (channel !== config.approval.channel) {
    problems.push(warning('gateway.yaml', 'approval.channel', `forced to ${channel} by managed requirements (${where('channel')}): asks are answered by a person through the approval queue, never by the calling client; the user setting ${config.approval.channel} is ignored`));
  }
  const { autoReview, ...rest } = approval;
  approval = { ...rest, channel, ...(autoReview && autoReview.kind !== 'sampling' ? { autoReview } : {}) };
  if (autoReview?.kind === 'sampling') {
    problems.push(warning('gateway.yaml', 'approval.autoReview', `the sampling reviewer (the calling client's own model) is off under managed requirements (${where('channel')}: ${forced})`));
  }
  const adjusted = servers.map((server) => {
    if (!server.approvalChannel || effective(server.approvalChannel) === server.approvalChannel) return server;
    problems.push(warning(server.file, 'approval.channel', `forced to ${effective(server.approvalChannel)} by managed requirements (${where('channel')}); the user setting ${server.approvalChannel} is ignored`));
    return { ...server, approvalChannel: effective(server.approvalChannel) };
  });
  return { approval, servers: adjusted, problems };
}

function warning(file: string, field: string, message: string): ConfigProblem {
  return { file, field, message, severity: 'warning' };
}
