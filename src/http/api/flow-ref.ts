import type { Context } from 'koa';
import type { FlowRef, FlowStarter } from '../../flows/flow-store.js';

/**
 * The header that proves an API caller started the flow it names. The flow token comes
 * once, in the answer that starts the flow (`flow_token`), and is never put in a URL.
 */
export const FLOW_TOKEN_HEADER = 'X-Flow-Token';

/** An API flow starts bound to a fresh flow token. */
export const API_FLOW_STARTER: FlowStarter = { channel: 'api', bind: 'new' };

/** The flow a JSON request names (`:flowId`), with the flow token it presents. */
export function apiFlowRef(ctx: Context): FlowRef {
  const holder = ctx.get(FLOW_TOKEN_HEADER);
  return { id: ctx.params.flowId ?? '', channel: 'api', ...(holder ? { holder } : {}) };
}
