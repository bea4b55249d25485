import { sql, type Kysely } from 'kysely';

/**
 * WeChat identities bound to real-name accounts, for the mini-program's login grant. A
 * binding is made once, after a normal login, and removed from the account centre.
 *
 * The openid is a pseudonymous identifier, but it still lets whoever holds it follow a
 * person across services: it is kept only as a blind index (to find the binding) and
 * masked (to show it), like the unionid.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('wechat_bindings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('openid_idx', 'text', (c) => c.notNull())
    .addColumn('openid_masked', 'text', (c) => c.notNull())
    .addColumn('unionid_idx', 'text')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    // The client the binding was made with; unbinding ends that client's grants of the account.
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_login_at', 'timestamptz')
    // One WeChat identity names one account, and an account has one WeChat identity per mini-program.
    .addUniqueConstraint('wechat_bindings_identity', ['app_id', 'openid_idx'])
    .addUniqueConstraint('wechat_bindings_account', ['app_id', 'account_id'])
    .execute();
  await db.schema.createIndex('wechat_bindings_account_idx').on('wechat_bindings').column('account_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('wechat_bindings').execute();
}
