import type { Configuration } from 'oidc-provider';

/** The provider sends every login and consent step to our own pages under /interaction. */
export const interactions: NonNullable<Configuration['interactions']> = {
  url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
};
