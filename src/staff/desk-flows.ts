import type { FlowRef } from '../flows/flow-store.js';
import type { StaffActor } from './roles.js';

/**
 * Counter flows belong to the console session that started them, as a citizen's flows
 * belong to their browser or token: another agent, or the same agent signed in at another
 * desk, neither sees nor finishes them. The session's handle (never its cookie) is the holder.
 */
export function deskHolder(actor: StaffActor): { holder: string } {
  return { holder: `staff-session:${actor.sessionHandle}` };
}

/** A counter flow as this console session names it. */
export function atDesk(actor: StaffActor, flowId: string): FlowRef {
  return { id: flowId, channel: 'browser', ...deskHolder(actor) };
}
