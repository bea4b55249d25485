import test from 'ava';
import { accessPolicySchema } from '../../src/oidc/access-policy.js';
import { judgeAccess, levelOfAcr, requiredLevel, strongerAcr } from '../../src/oidc/policy-check.js';

const account = { id: 'a1', assuranceLevel: 2, totpEnabled: false };
const policy = (input: Record<string, unknown> = {}) => accessPolicySchema.parse(input);
const session = { acr: 'urn:civic-idp:loa:2', amr: ['pwd'] };

test('acr values: ours are ordered by level, others are ignored', (t) => {
  t.is(levelOfAcr('urn:civic-idp:loa:3'), 3);
  t.is(levelOfAcr('urn:other:gold'), undefined);
  t.is(requiredLevel(policy(), ['urn:civic-idp:loa:3', 'urn:civic-idp:loa:2']), 2);
  t.is(requiredLevel(policy(), ['urn:civic-idp:loa:3']), 3);
  t.is(requiredLevel(policy({ min_assurance_level: 3 }), ['urn:civic-idp:loa:2']), 3);
  t.is(requiredLevel(policy(), ['urn:other:gold']), 2);
});

test('a session never silently lowers its acr', (t) => {
  t.is(strongerAcr('urn:civic-idp:loa:3', 'urn:civic-idp:loa:2'), 'urn:civic-idp:loa:3');
  t.is(strongerAcr('urn:civic-idp:loa:2', 'urn:civic-idp:loa:3'), 'urn:civic-idp:loa:3');
  t.is(strongerAcr('urn:civic-idp:loa:3', undefined), 'urn:civic-idp:loa:3');
  t.is(strongerAcr(undefined, 'urn:civic-idp:loa:2'), 'urn:civic-idp:loa:2');
});

test('refusals come before step-ups, and each names its reason', (t) => {
  t.like(judgeAccess({ policy: policy({ entity_types: ['legal'], min_assurance_level: 3 }), entityType: 'natural', account, session }), { outcome: 'refused', reason: 'entity_type' });
  t.like(judgeAccess({ policy: policy(), entityType: 'legal', account, session }), { outcome: 'allowed' });
  t.like(judgeAccess({ policy: policy({ deny_accounts: ['a1'] }), entityType: 'natural', account, session }), { outcome: 'refused', reason: 'account_excluded' });
  t.like(judgeAccess({ policy: policy({ allow_accounts: [] }), entityType: 'natural', account, session }), { outcome: 'refused', reason: 'account_excluded' });
  t.like(judgeAccess({ policy: policy({ min_assurance_level: 3 }), entityType: 'natural', account, session }), { outcome: 'refused', reason: 'assurance_level', level: 3 });
  t.like(judgeAccess({ policy: policy({ login_methods: ['otp'] }), entityType: 'natural', account, session }), { outcome: 'refused', reason: 'login_method' });
});

test('a weaker session steps up with what the login page can offer', (t) => {
  t.like(judgeAccess({ policy: policy({ login_methods: ['pwd', 'qr'] }), entityType: 'natural', account, session: { ...session, amr: ['sms'] } }),
    { outcome: 'step_up', reason: 'login_method', methods: ['pwd'] });
  t.like(judgeAccess({ policy: policy({ login_methods: ['mfa'] }), entityType: 'natural', account: { ...account, totpEnabled: true }, session }),
    { outcome: 'step_up', reason: 'login_method', methods: ['mfa'] });
  t.like(judgeAccess({ policy: policy({ min_assurance_level: 3 }), entityType: 'natural', account: { ...account, assuranceLevel: 3 }, session }),
    { outcome: 'step_up', reason: 'assurance_level', level: 3 });
  // A session's acr never counts for more than the account's level now.
  t.like(judgeAccess({ policy: policy({ min_assurance_level: 3 }), entityType: 'natural', account, session: { ...session, acr: 'urn:civic-idp:loa:3' } }),
    { outcome: 'refused', reason: 'assurance_level' });
  t.like(judgeAccess({ policy: policy({ login_methods: ['sms', 'pwd'] }), entityType: 'natural', account, session }), { outcome: 'allowed' });
});
