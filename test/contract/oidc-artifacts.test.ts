import test, { type ExecutionContext } from 'ava';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { CacheArtifacts } from '../../src/oidc/adapters/cache-artifacts.js';
import { DurableArtifacts } from '../../src/oidc/adapters/durable-artifacts.js';
import { cacheImplementations, databaseImplementations, sleep } from '../helpers/stores.js';

/**
 * The oidc-provider adapter contract: CacheArtifacts on both caches and DurableArtifacts on
 * both databases must behave alike, since oidc-provider cannot tell which one it was given.
 */

interface ArtifactStore {
  name: string;
  open(): Promise<{ adapter(model: string): Adapter; cleanup(): Promise<void> }>;
}

const stores: ArtifactStore[] = [
  ...cacheImplementations.map((implementation): ArtifactStore => ({
    name: `CacheArtifacts on ${implementation.name}`,
    async open() {
      const { cache, cleanup } = await implementation.open();
      return { adapter: (model) => new CacheArtifacts(cache, model), cleanup };
    },
  })),
  ...databaseImplementations.map((implementation): ArtifactStore => ({
    name: `DurableArtifacts on ${implementation.name}`,
    async open() {
      const { handle, cleanup } = await implementation.open();
      try {
        await handle.migrate('up');
      } catch (error) {
        await cleanup();
        throw error;
      }
      return { adapter: (model) => new DurableArtifacts(handle.db, model), cleanup };
    },
  })),
];

const nowSeconds = () => Math.floor(Date.now() / 1000);

function token(jti: string, extra: Partial<AdapterPayload> = {}): AdapterPayload {
  const iat = nowSeconds();
  return {
    jti,
    kind: 'RefreshToken',
    iat,
    exp: iat + 3600,
    accountId: 'account-1',
    clientId: 'app',
    grantId: 'grant-1',
    scope: 'openid profile',
    claims: { userinfo: { name: null, phone_number: { essential: true } } },
    resources: ['https://api.example.gov.cn'],
    'x5t#S256': undefined,
    ...extra,
  } as AdapterPayload;
}

/** What a payload looks like after a JSON round trip (undefined members disappear). */
const stored = (payload: AdapterPayload) => JSON.parse(JSON.stringify(payload)) as AdapterPayload;

function artifactContract(store: ArtifactStore) {
  const it = (title: string, body: (t: ExecutionContext, adapter: (model: string) => Adapter) => Promise<void>) => {
    test(`${store.name}: ${title}`, async (t) => {
      const fixture = await store.open();
      t.teardown(() => fixture.cleanup());
      await body(t, fixture.adapter);
    });
  };

  it('upsert then find returns the same payload', async (t, adapter) => {
    const tokens = adapter('RefreshToken');
    t.is(await tokens.find('absent'), undefined);
    const payload = token('rt-1');
    await tokens.upsert('rt-1', payload, 3600);
    t.deepEqual(await tokens.find('rt-1'), stored(payload));
  });

  it('a second upsert replaces the payload', async (t, adapter) => {
    const tokens = adapter('RefreshToken');
    await tokens.upsert('rt-1', token('rt-1', { scope: 'openid' }), 3600);
    const replacement = token('rt-1', { scope: 'openid phone', rotations: 2 });
    await tokens.upsert('rt-1', replacement, 3600);
    t.deepEqual(await tokens.find('rt-1'), stored(replacement));
  });

  it('models are separate namespaces', async (t, adapter) => {
    await adapter('RefreshToken').upsert('same-id', token('same-id'), 3600);
    t.is(await adapter('AccessToken').find('same-id'), undefined);
    t.truthy(await adapter('RefreshToken').find('same-id'));
  });

  it('findByUid finds a payload by its uid', async (t, adapter) => {
    const sessions = adapter('Session');
    const payload = { jti: 'sess-1', uid: 'uid-1', kind: 'Session', accountId: 'account-1', exp: nowSeconds() + 600 } as AdapterPayload;
    await sessions.upsert('sess-1', payload, 600);
    t.deepEqual(await sessions.findByUid('uid-1'), payload);
    t.is(await sessions.findByUid('uid-unknown'), undefined);
    t.is(await adapter('Interaction').findByUid('uid-1'), undefined, 'a uid of another model is not found');
  });

  it('findByUserCode finds a payload by its user code', async (t, adapter) => {
    const codes = adapter('DeviceCode');
    const payload = { jti: 'dc-1', userCode: 'BCDF-GHJK', kind: 'DeviceCode', clientId: 'tv', exp: nowSeconds() + 600 } as AdapterPayload;
    await codes.upsert('dc-1', payload, 600);
    t.deepEqual(await codes.findByUserCode('BCDF-GHJK'), payload);
    t.is(await codes.findByUserCode('ZZZZ-ZZZZ'), undefined);
    t.is(await adapter('AuthorizationCode').findByUserCode('BCDF-GHJK'), undefined, 'a user code of another model is not found');
  });

  it('expired entries are not found by id, uid or user code', async (t, adapter) => {
    const codes = adapter('DeviceCode');
    // Three seconds, so a busy machine still finds it before it expires.
    const stored = Date.now();
    await codes.upsert('short', { jti: 'short', uid: 'uid-short', userCode: 'SHRT-CODE' } as AdapterPayload, 3);
    await codes.upsert('long', { jti: 'long', uid: 'uid-long', userCode: 'LONG-CODE' } as AdapterPayload, 600);
    t.truthy(await codes.find('short'));
    await sleep(Math.max(0, stored + 3_600 - Date.now()));
    t.is(await codes.find('short'), undefined);
    t.is(await codes.findByUid('uid-short'), undefined);
    t.is(await codes.findByUserCode('SHRT-CODE'), undefined);
    t.truthy(await codes.find('long'));
    t.truthy(await codes.findByUid('uid-long'));
    t.truthy(await codes.findByUserCode('LONG-CODE'));
  });

  it('consume marks the payload consumed, once', async (t, adapter) => {
    const codes = adapter('AuthorizationCode');
    const payload = token('code-1', { kind: 'AuthorizationCode' });
    await codes.upsert('code-1', payload, 60);
    t.is((await codes.find('code-1'))?.consumed, undefined);

    const before = nowSeconds();
    await codes.consume('code-1');
    const after = nowSeconds();
    const found = await codes.find('code-1');
    t.truthy(found);
    const { consumed, ...rest } = found!;
    t.deepEqual(rest, stored(payload));
    t.is(typeof consumed, 'number');
    t.true((consumed as number) >= before - 1 && (consumed as number) <= after + 1, `consumed at ${String(consumed)}`);

    await t.throwsAsync(codes.consume('code-1'), { instanceOf: errors.InvalidGrant });
    t.is((await codes.find('code-1'))?.consumed, consumed, 'a refused consume leaves the mark alone');
  });

  it('consuming an absent artifact is refused', async (t, adapter) => {
    await t.throwsAsync(adapter('AuthorizationCode').consume('absent'), { instanceOf: errors.InvalidGrant });
    t.is(await adapter('AuthorizationCode').find('absent'), undefined);
  });

  it('of 20 parallel consumes exactly one succeeds and the rest are InvalidGrant', async (t, adapter) => {
    const codes = adapter('AuthorizationCode');
    await codes.upsert('code-race', token('code-race', { kind: 'AuthorizationCode' }), 60);
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => codes.consume('code-race')));
    t.is(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    t.is(refused.length, 19);
    for (const outcome of refused) t.true(outcome.reason instanceof errors.InvalidGrant, String(outcome.reason));
    t.is(typeof (await codes.find('code-race'))?.consumed, 'number');
  });

  it('destroy removes the artifact and its lookups', async (t, adapter) => {
    const sessions = adapter('Session');
    await sessions.upsert('sess-1', { jti: 'sess-1', uid: 'uid-1' } as AdapterPayload, 600);
    await sessions.upsert('sess-2', { jti: 'sess-2', uid: 'uid-2' } as AdapterPayload, 600);
    await sessions.destroy('sess-1');
    t.is(await sessions.find('sess-1'), undefined);
    t.is(await sessions.findByUid('uid-1'), undefined);
    t.truthy(await sessions.find('sess-2'));
    await t.notThrowsAsync(sessions.destroy('absent'));
  });

  it('revokeByGrantId removes the grant\'s artifacts of that model only', async (t, adapter) => {
    const refresh = adapter('RefreshToken');
    const access = adapter('AccessToken');
    await refresh.upsert('rt-a1', token('rt-a1', { grantId: 'grant-a' }), 3600);
    await refresh.upsert('rt-a2', token('rt-a2', { grantId: 'grant-a' }), 3600);
    await refresh.upsert('rt-b1', token('rt-b1', { grantId: 'grant-b' }), 3600);
    await refresh.upsert('rt-none', token('rt-none', { grantId: undefined }), 3600);
    await access.upsert('at-a1', token('at-a1', { grantId: 'grant-a', kind: 'AccessToken' }), 3600);

    await refresh.revokeByGrantId('grant-a');

    t.is(await refresh.find('rt-a1'), undefined);
    t.is(await refresh.find('rt-a2'), undefined);
    t.truthy(await refresh.find('rt-b1'), 'another grant\'s token survives');
    t.truthy(await refresh.find('rt-none'), 'a token without a grant survives');
    t.truthy(await access.find('at-a1'), 'another model\'s token of the same grant is its own adapter\'s business');

    await access.revokeByGrantId('grant-a');
    t.is(await access.find('at-a1'), undefined);
    await t.notThrowsAsync(refresh.revokeByGrantId('grant-unknown'));
  });

  it('revokeByGrantId also revokes consumed artifacts', async (t, adapter) => {
    const refresh = adapter('RefreshToken');
    await refresh.upsert('rt-1', token('rt-1', { grantId: 'grant-c' }), 3600);
    await refresh.consume('rt-1');
    await refresh.revokeByGrantId('grant-c');
    t.is(await refresh.find('rt-1'), undefined);
  });
}

for (const store of stores) artifactContract(store);
