/** What the bench needs to know to drive the bare provider (bare-provider.ts). */
export const BARE = {
  service: { client_id: 'bench-service', secret: 'bench-service-secret-for-benchmarks-only-0123456789' },
  app: { client_id: 'app', redirect_uri: 'cn.gov.example.app:/oauth2/callback', scope: 'openid' },
  resource: 'https://api.gov.example/',
  scope: 'services.read',
};
