import { loadRegistryFixtures } from './fixtures.js';
import { createHttpRegistries, type HttpRegistriesOptions } from './http.js';
import { createSimulatorRegistries } from './simulator.js';
import type { Registries } from './types.js';

export type * from './types.js';
export { normalise } from './types.js';
export type { HttpRegistriesOptions } from './http.js';

export type RegistriesOptions =
  | { kind: 'simulator'; fixturesFile: string }
  | ({ kind: 'http' } & HttpRegistriesOptions);

/**
 * The registries the configuration asks for. The simulator reads and checks its fixtures
 * file here, so a wrong file stops the process at start-up, not at the first registration.
 */
export async function createRegistries(options: RegistriesOptions): Promise<Registries> {
  if (options.kind === 'simulator') return createSimulatorRegistries(await loadRegistryFixtures(options.fixturesFile));
  const { kind: _kind, ...http } = options;
  return createHttpRegistries(http);
}
