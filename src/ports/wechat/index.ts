import { loadWechatFixtures } from './fixtures.js';
import { HttpWechat, type HttpWechatOptions } from './http.js';
import { createSimulatorWechat, type SpentCodes } from './simulator.js';
import type { WechatPort } from './types.js';

export type * from './types.js';
export { WECHAT_CODE } from './types.js';
export type { HttpWechatOptions } from './http.js';
export { parseWechatFixtures, type WechatFixtures } from './fixtures.js';

export type WechatOptions =
  | { kind: 'simulator'; fixturesFile: string }
  | ({ kind: 'http' } & HttpWechatOptions);

/**
 * The WeChat port the configuration asks for. The simulator reads and checks its fixtures
 * here, so a wrong file stops the process at start-up; it keeps spent codes in `spent`.
 */
export async function createWechat(options: WechatOptions, spent: SpentCodes): Promise<WechatPort> {
  if (options.kind === 'simulator') {
    return createSimulatorWechat(await loadWechatFixtures(options.fixturesFile), spent);
  }
  const { kind: _kind, ...http } = options;
  return new HttpWechat(http);
}
