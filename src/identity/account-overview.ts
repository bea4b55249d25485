import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import type { SecurityEvents } from '../audit/audit-queries.js';
import { AppError } from '../errors.js';
import type { AccountSessions } from '../oidc/account-sessions.js';
import type { FactorKind } from '../store/schema.js';
import type { AccountRow } from './account-store.js';
import type { Accounts } from './accounts.js';
import type { Release } from './release.js';

/**
 * The account centre's front page: personal data masked, except the address, which only
 * its owner sees; the account id only to a reader that may have it (see Release).
 */
export interface AccountOverviewView {
  id?: string;
  name_masked: string;
  id_number_masked: string;
  assurance_level: number;
  registration_channel: AccountRow['registration_channel'];
  phone_masked?: string;
  address?: string;
  totp_enabled: boolean;
  recovery_codes_left?: number;
  factors: Array<{ kind: FactorKind; masked: string; verified_at: string }>;
  registered_at: string;
  password_changed_at?: string;
}

/**
 * Everything we hold about a person, for them to take away (个人信息可携带): whole where
 * the reader may have it (Release), masked where not (`name_masked`, `id_number_masked`,
 * `phone_masked`).
 */
export interface AccountExport {
  format: 'civic-idp.account-export/1';
  exported_at: string;
  profile: {
    id?: string;
    status: AccountRow['status'];
    assurance_level: number;
    registration_channel: AccountRow['registration_channel'];
    name?: string;
    name_masked?: string;
    id_number?: string;
    id_number_masked?: string;
    phone?: string;
    phone_masked?: string;
    address?: string;
    registered_at: string;
    password_changed_at?: string;
    totp_enabled_at?: string;
  };
  factors: Array<{ kind: FactorKind; masked: string; verified_at: string }>;
  sessions: Array<{ login_at?: string; clients: string[]; amr?: string[] }>;
  security_events: Array<{ at: string; action: string; result: string; details: Record<string, unknown> }>;
  agreement: { version?: string; accepted_at?: string };
}

const iso = (date: Date | null | undefined) => (date ? new Date(date).toISOString() : undefined);

/** Reading an account for its owner: the overview and the data export. */
export class AccountOverview {
  constructor(
    private readonly accounts: Accounts,
    private readonly sessions: AccountSessions,
    private readonly events: SecurityEvents,
    private readonly audit: AuditLog,
  ) {}

  private async activeRow(accountId: string): Promise<AccountRow> {
    const row = await this.accounts.row(accountId);
    if (!row || row.status !== 'active') throw new AppError('unauthenticated');
    return row;
  }

  private async factors(accountId: string) {
    return (await this.accounts.factors(accountId)).map((f) => ({ kind: f.kind, masked: f.masked, verified_at: iso(f.verified_at)! }));
  }

  async overview(accountId: string, release: Release): Promise<AccountOverviewView> {
    const row = await this.activeRow(accountId);
    const profile = this.accounts.profileOf(row);
    return {
      ...(release.accountId ? { id: row.id } : {}),
      name_masked: profile.masked.name,
      id_number_masked: profile.masked.idNumber,
      assurance_level: row.assurance_level,
      registration_channel: row.registration_channel,
      ...(profile.masked.phone ? { phone_masked: profile.masked.phone } : {}),
      ...(profile.address ? { address: profile.address } : {}),
      totp_enabled: profile.totpEnabled,
      ...(profile.totpEnabled ? { recovery_codes_left: await this.accounts.unusedRecoveryCodes(row.id) } : {}),
      factors: await this.factors(row.id),
      registered_at: iso(row.created_at)!,
      ...(row.password_changed_at ? { password_changed_at: iso(row.password_changed_at) } : {}),
    };
  }

  /**
   * The owner's own data, in full as far as the reader may have it (a client whose policy
   * withholds the name or the ID number gets it masked, as its claims do), factors masked as we hold
   * them (only a blind index of their numbers is kept), sessions, the security events and
   * the agreement. The export itself is audited.
   */
  async export(accountId: string, release: Release, meta: RequestMeta): Promise<AccountExport> {
    const row = await this.activeRow(accountId);
    const profile = this.accounts.profileOf(row);
    const [factors, sessions, events] = await Promise.all([this.factors(row.id), this.sessions.list(row.id), this.events.recent(row.id)]);
    const document: AccountExport = {
      format: 'civic-idp.account-export/1',
      exported_at: new Date().toISOString(),
      profile: {
        ...(release.accountId ? { id: row.id } : {}),
        status: row.status,
        assurance_level: row.assurance_level,
        registration_channel: row.registration_channel,
        ...(release.name ? { name: profile.name } : { name_masked: profile.masked.name }),
        ...(release.idNumber ? { id_number: profile.idNumber } : { id_number_masked: profile.masked.idNumber }),
        ...(profile.phone ? (release.phone ? { phone: profile.phone } : { phone_masked: profile.masked.phone }) : {}),
        ...(profile.address ? { address: profile.address } : {}),
        registered_at: iso(row.created_at)!,
        ...(row.password_changed_at ? { password_changed_at: iso(row.password_changed_at) } : {}),
        ...(row.totp_enabled_at ? { totp_enabled_at: iso(row.totp_enabled_at) } : {}),
      },
      factors,
      sessions: sessions.map((s) => ({
        ...(s.login_at ? { login_at: s.login_at } : {}),
        clients: s.clients,
        ...(s.amr ? { amr: s.amr } : {}),
      })),
      security_events: events.map((e) => ({ at: iso(e.at)!, action: e.action, result: e.result, details: e.details })),
      agreement: {
        ...(row.agreement_version ? { version: row.agreement_version } : {}),
        ...(row.agreement_accepted_at ? { accepted_at: iso(row.agreement_accepted_at) } : {}),
      },
    };
    await this.audit.append({ actor: { kind: 'citizen', id: row.id }, action: 'account.export', target: { kind: 'account', id: row.id }, result: 'success', meta });
    return document;
  }
}
