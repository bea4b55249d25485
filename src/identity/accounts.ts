import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { AuditLog, RequestMeta } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import type { Db } from '../store/db.js';
import type { Database, FactorKind } from '../store/schema.js';
import { accountStore, claimsSourceKey, isUniqueViolation, type AccountRow, type ClaimsSource } from './account-store.js';
import { peekInRequest, takeFromRequest } from '../request-scope.js';
import { maskIdNumber, maskName, maskPhone } from './masking.js';
import { normaliseRecoveryCode } from './totp.js';
import type { PersonalData } from './personal-data.js';

/** A factor proven during registration, ready to be recorded (the value itself is only indexed). */
export interface VerifiedFactor {
  kind: FactorKind;
  normalised: string;
  masked: string;
}

export interface NewAccount {
  idNumber: string;
  name: string;
  /** Absent for a person registered without a mobile phone. */
  phone?: string;
  passwordHash: string;
  passwordMustChange: boolean;
  assuranceLevel: 2 | 3;
  channel: 'online' | 'counter' | 'federation';
  agreementVersion: string;
  factors: VerifiedFactor[];
}

/** An account with its personal data opened, for the account's owner and for claims. */
export interface AccountProfile {
  id: string;
  status: AccountRow['status'];
  assuranceLevel: number;
  channel: AccountRow['registration_channel'];
  idNumber: string;
  name: string;
  phone?: string;
  address?: string;
  passwordMustChange: boolean;
  totpEnabled: boolean;
  createdAt: Date;
  masked: { idNumber: string; name: string; phone?: string };
}

/** Natural persons' accounts: creation, lookup by ID number or phone, and their personal data. */
export class Accounts {
  constructor(private readonly db: Db, private readonly personal: PersonalData, private readonly audit: AuditLog) {}

  idNumberIndex(idNumber: string): string {
    return this.personal.index('id_number', idNumber);
  }

  /** See PersonalData.guessIndex: the person a name and an ID number's first 14 characters describe. */
  guessIndex(idNumber: string, name: string): string {
    return this.personal.guessIndex(idNumber, name);
  }

  phoneIndex(phone: string): string {
    return this.personal.index('phone', phone);
  }

  row(id: string): Promise<AccountRow | undefined> {
    return accountStore.byId(this.db, id);
  }

  /**
   * The row inside a caller's transaction, locked until it ends. A read through the pool
   * inside a transaction would see a state the transaction may be about to contradict, and
   * on the embedded database, which has one connection, it would wait for ever.
   */
  rowForUpdate(id: string, trx: Transaction<Database>): Promise<AccountRow | undefined> {
    return accountStore.byIdForUpdate(trx, id);
  }

  byIdNumber(idNumber: string): Promise<AccountRow | undefined> {
    return accountStore.byIdNumberIndex(this.db, this.idNumberIndex(idNumber));
  }

  byPhone(phone: string): Promise<AccountRow | undefined> {
    return accountStore.byPhoneIndex(this.db, this.phoneIndex(phone));
  }

  /** One personal field, opened alone: the claims of a token need rarely all of them. */
  /**
   * Whether the account may hold tokens and its sealed claims: taken from what this request
   * already read along with the account's token (durable-artifacts.ts), else read now.
   */
  async claimsSource(id: string): Promise<ClaimsSource | undefined> {
    const left = takeFromRequest<ClaimsSource | null>(claimsSourceKey(id));
    if (left !== undefined) return left ?? undefined;
    return accountStore.claimsSource(this.db, id);
  }

  /** Whether this request already read the account's claims source along with a token. */
  claimsSourceLeft(id: string): boolean {
    return peekInRequest(claimsSourceKey(id));
  }

  openField(row: Pick<AccountRow, 'id_number_enc' | 'name_enc' | 'phone_enc'>, field: 'id_number' | 'name' | 'phone'): string | undefined {
    const sealed = field === 'id_number' ? row.id_number_enc : field === 'name' ? row.name_enc : row.phone_enc;
    return this.personal.openOptional(field, sealed);
  }

  profileOf(row: AccountRow): AccountProfile {
    const idNumber = this.personal.openOptional('id_number', row.id_number_enc) ?? '';
    const name = this.personal.openOptional('name', row.name_enc) ?? '';
    const phone = this.personal.openOptional('phone', row.phone_enc);
    return {
      id: row.id,
      status: row.status,
      assuranceLevel: row.assurance_level,
      channel: row.registration_channel,
      idNumber,
      name,
      phone,
      address: this.personal.openOptional('address', row.address_enc),
      passwordMustChange: row.password_must_change,
      totpEnabled: row.totp_enabled_at !== null,
      createdAt: row.created_at,
      masked: {
        idNumber: idNumber ? maskIdNumber(idNumber) : '',
        name: name ? maskName(name) : '',
        ...(phone ? { phone: maskPhone(phone) } : {}),
      },
    };
  }

  async profile(id: string): Promise<AccountProfile | undefined> {
    const row = await this.row(id);
    return row ? this.profileOf(row) : undefined;
  }

  /**
   * Creates the account, its factors and its audit record in one transaction. A second
   * registration of the same person or phone fails on the unique indexes, whatever the race.
   */
  async create(input: NewAccount, meta: RequestMeta, actor: { kind: 'citizen' | 'staff'; id?: string } = { kind: 'citizen' }): Promise<string> {
    const id = randomUUID();
    const now = new Date();
    try {
      await this.db.transaction().execute(async (trx) => {
        await accountStore.insert(trx, {
          id,
          status: 'active',
          assurance_level: input.assuranceLevel,
          registration_channel: input.channel,
          id_number_enc: this.personal.seal('id_number', input.idNumber),
          id_number_idx: this.idNumberIndex(input.idNumber),
          name_enc: this.personal.seal('name', input.name),
          phone_enc: input.phone === undefined ? null : this.personal.seal('phone', input.phone),
          phone_idx: input.phone === undefined ? null : this.phoneIndex(input.phone),
          password_hash: input.passwordHash,
          password_must_change: input.passwordMustChange,
          password_changed_at: now,
          agreement_version: input.agreementVersion,
          agreement_accepted_at: now,
        });
        for (const factor of input.factors) {
          await accountStore.replaceFactor(trx, {
            account_id: id, kind: factor.kind, value_idx: this.personal.index(factor.kind === 'phone' ? 'phone' : factor.kind, factor.normalised), masked: factor.masked,
          });
        }
        await this.audit.append({
          actor: { kind: actor.kind, id: actor.kind === 'citizen' ? id : actor.id },
          action: 'account.register',
          target: { kind: 'account', id },
          result: 'success',
          details: { channel: input.channel, assurance_level: input.assuranceLevel, factors: input.factors.map((f) => f.kind), id_number_masked: maskIdNumber(input.idNumber) },
          meta,
        }, trx);
      });
    } catch (error) {
      if (isUniqueViolation(error, 'accounts_id_number_idx')) throw new AppError('already_registered', {}, { cause: error });
      if (isUniqueViolation(error, 'accounts_phone_idx')) throw new AppError('phone_in_use', {}, { cause: error });
      throw error;
    }
    return id;
  }

  async update(id: string, patch: Parameters<typeof accountStore.update>[2], trx?: Transaction<Database>): Promise<void> {
    await accountStore.update(trx ?? this.db, id, patch);
  }

  /** See accountStore.useTotpStep: false when the step (or a later one) was already used. */
  useTotpStep(id: string, step: number): Promise<boolean> {
    return accountStore.useTotpStep(this.db, id, step);
  }

  /** Seals and indexes a new bound phone; fails when another account holds it. */
  async bindPhone(id: string, phone: string, trx?: Transaction<Database>): Promise<void> {
    try {
      await accountStore.update(trx ?? this.db, id, {
        phone_enc: this.personal.seal('phone', phone),
        phone_idx: this.phoneIndex(phone),
      });
      await accountStore.replaceFactor(trx ?? this.db, { account_id: id, kind: 'phone', value_idx: this.phoneIndex(phone), masked: maskPhone(phone) });
    } catch (error) {
      if (isUniqueViolation(error, 'accounts_phone_idx')) throw new AppError('phone_in_use', {}, { cause: error });
      throw error;
    }
  }

  factors(id: string) {
    return accountStore.factors(this.db, id);
  }

  sealAddress(address: string): string {
    return this.personal.seal('address', address);
  }

  sealTotpSecret(secret: string): string {
    return this.personal.seal('totp_secret', secret);
  }

  openTotpSecret(row: AccountRow): string | undefined {
    return this.personal.openOptional('totp_secret', row.totp_secret_enc);
  }

  recoveryCodeDigest(accountId: string, code: string): string {
    return this.personal.secretDigest(`recovery-code:${accountId}`, normaliseRecoveryCode(code));
  }

  async replaceRecoveryCodes(accountId: string, codes: string[], trx?: Transaction<Database>): Promise<void> {
    await accountStore.replaceRecoveryCodes(trx ?? this.db, accountId, codes.map((code) => this.recoveryCodeDigest(accountId, code)));
  }

  useRecoveryCode(accountId: string, code: string): Promise<boolean> {
    return accountStore.useRecoveryCode(this.db, accountId, this.recoveryCodeDigest(accountId, code));
  }

  unusedRecoveryCodes(accountId: string): Promise<number> {
    return accountStore.unusedRecoveryCodes(this.db, accountId);
  }

  transaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(work);
  }
}
