import type { ClientMetadata, KoaContextWithOIDC } from 'oidc-provider';
import { AuditLog } from './audit/audit-log.js';
import type { Config } from './config/load.js';
import { KeyedDigest } from './crypto/digest.js';
import { FieldCipher } from './crypto/field-cipher.js';
import { CsrfTokens } from './http/csrf.js';
import { Metrics } from './http/metrics.js';
import { PageRenderer } from './http/render.js';
import { translate, type Locale } from './i18n/messages.js';
import { FlowStore } from './flows/flow-store.js';
import { PendingLogins } from './flows/pending-login.js';
import { Registration } from './flows/registration.js';
import { Recovery } from './flows/recovery.js';
import { PhoneRebinding } from './flows/phone-rebinding.js';
import { QrLogins } from './flows/qr-login.js';
import { SecurityEvents } from './audit/audit-queries.js';
import { AccountOverview } from './identity/account-overview.js';
import { AddressChange } from './identity/address-change.js';
import { AttemptLimit } from './identity/attempt-limit.js';
import { Deregistration } from './identity/deregistration.js';
import { OwnerCodes } from './identity/owner-codes.js';
import { PasswordChange } from './identity/password-change.js';
import { TotpEnrolment } from './identity/totp-enrolment.js';
import { accountCentreClient } from './oidc/account-centre-client.js';
import { Accounts } from './identity/accounts.js';
import { Authentication, credentialStamp } from './identity/authentication.js';
import { Passwords } from './identity/passwords.js';
import { PersonalData } from './identity/personal-data.js';
import type { Logger } from './log.js';
import { findAccount } from './oidc/account-claims.js';
import { readGrantWithAccount } from './oidc/adapters/durable-artifacts.js';
import { AccountSessions } from './oidc/account-sessions.js';
import { LogoutOutbox } from './oidc/logout-outbox.js';
import { BackchannelLogout } from './oidc/backchannel-logout.js';
import { hintNamesThisSession } from './oidc/logout-hint.js';
import { LIFETIMES } from './oidc/configuration/ttl.js';
import { createRegistries, type Registries } from './ports/registries/index.js';
import { createSmsGateway, type SmsGateway } from './ports/sms/index.js';
import { Captchas } from './verification/captcha.js';
import { RealNameChecks } from './verification/real-name-checks.js';
import { LoginThrottle } from './verification/login-throttle.js';
import { SmsCodes } from './verification/sms-codes.js';
import { adapterFactory } from './oidc/adapters/index.js';
import { ClientRegistry } from './oidc/clients.js';
import { createProvider } from './oidc/provider.js';
import { ActingAuthority } from './delegation/acting-authority.js';
import { Delegations } from './delegation/delegations.js';
import { clientLegalPolicy, serviceCatalogue } from './oidc/acting-identity.js';
import { ProviderHost } from './oidc/provider-host.js';
import { ClientAccess } from './oidc/policy-check.js';
import { ClientPolicies } from './oidc/client-policies.js';
import { readResourceServers } from './oidc/resource-servers.js';
import { SigningKeyStore } from './oidc/signing-keys.js';
import { openCache, type Cache } from './store/cache.js';
import { openDatabase, type DatabaseHandle } from './store/db.js';
import { storeFault } from './store/faults.js';
import { EnterpriseLogin } from './enterprises/enterprise-login.js';
import { Enterprises } from './enterprises/enterprises.js';
import { EnterpriseRegistration } from './enterprises/registration.js';
import { FederatedLogin } from './federation/federated-login.js';
import { federationCallback, readUpstreamIdps } from './ports/upstream-idp/config.js';
import { UpstreamOidcClient } from './ports/upstream-idp/oidc-client.js';
import { buildStaffServices, type StaffServices } from './staff/index.js';
import { AuditRetention } from './audit/audit-retention.js';
import { createWechat, type WechatPort } from './ports/wechat/index.js';
import { BindingStore } from './wechat/binding-store.js';
import { BindingTickets } from './wechat/binding-tickets.js';
import { WechatBindings } from './wechat/bindings.js';
import { WechatLogin } from './wechat/wechat-login.js';

const DAY_SECONDS = 24 * 3600;

/** Everything the app needs, built once from configuration. Tests build it the same way. */
export interface Dependencies {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  cache: Cache;
  cipher: FieldCipher;
  digest: KeyedDigest;
  clients: ClientRegistry;
  signingKeys: SigningKeyStore;
  providers: ProviderHost;
  metrics: Metrics;
  pages: PageRenderer;
  csrf: CsrfTokens;
  audit: AuditLog;
  registries: Registries;
  sms: SmsGateway;
  captchas: Captchas;
  smsCodes: SmsCodes;
  accounts: Accounts;
  authentication: Authentication;
  flows: FlowStore;
  registration: Registration;
  passwords: Passwords;
  pendingLogins: PendingLogins;
  accountSessions: AccountSessions;
  /** Logins acts have ended and the provider has still to end (retried until done). */
  logouts: LogoutOutbox;
  recovery: Recovery;
  securityEvents: SecurityEvents;
  ownerCodes: OwnerCodes;
  accountOverview: AccountOverview;
  addressChange: AddressChange;
  passwordChange: PasswordChange;
  totpEnrolment: TotpEnrolment;
  phoneRebinding: PhoneRebinding;
  deregistration: Deregistration;
  clientAccess: ClientAccess;
  clientPolicies: ClientPolicies;
  qrLogins: QrLogins;
  enterprises: Enterprises;
  enterpriseRegistration: EnterpriseRegistration;
  enterpriseLogin: EnterpriseLogin;
  federation: FederatedLogin;
  backchannelLogout: BackchannelLogout;
  acting: ActingAuthority;
  delegations: Delegations;
  /** Helpdesk and administration (src/staff). */
  staff: StaffServices;
  /** The audit log's daily verification and retention purge. */
  auditRetention: AuditRetention;
  /** Undefined when WECHAT=off. */
  wechat: WechatPort | undefined;
  wechatBindings: WechatBindings;
  close(): Promise<void>;
}

export interface BuildOptions {
  /** Upsert CLIENTS_FILE into the database (the server does at every start; CLI commands do not). */
  importClients?: boolean;
}

export async function buildDependencies(config: Config, logger: Logger, options: BuildOptions = {}): Promise<Dependencies> {
  const { importClients = true } = options;
  const database = await openDatabase(config.database, logger);
  const opened: Array<() => Promise<void>> = [() => database.close()];
  try {
    await database.migrate('up');
    const cache = await openCache(config.cache, logger);
    opened.push(() => cache.close());
    const cipher = new FieldCipher(config.secrets.dataKeys);
    const digest = new KeyedDigest(config.secrets.blindIndexKey);
    const clients = new ClientRegistry(database.db, digest);
    await clients.listenForChanges(cache);
    const signingKeys = new SigningKeyStore(database.db, cipher);
    const metrics = new Metrics();
    const pages = new PageRenderer({ cache: !config.templateReload, site: config.site });
    const csrf = new CsrfTokens(config.secrets.cookieKeys[0]!);
    const resourceServers = await readResourceServers(config.resourceServersFile);
    const adapter = adapterFactory({ db: database.db, cache, clients, refreshReuseSeconds: config.refreshTokenReuseSeconds });

    const audit = new AuditLog(database.db);
    const registries = await createRegistries(config.registries);
    const sms = createSmsGateway(config.sms);
    const captchas = new Captchas(cache);
    const smsCodes = new SmsCodes(cache, sms, digest, captchas, config.smsPolicy);
    const accounts = new Accounts(database.db, new PersonalData(cipher, digest), audit);
    const authentication = new Authentication(accounts, new LoginThrottle(cache, config.loginPolicy), smsCodes, audit, digest, captchas);
    const flows = new FlowStore(cache, cipher);
    const registration = new Registration(flows, accounts, registries, smsCodes, config.agreementVersion, new RealNameChecks(cache, captchas, audit, config.realNamePolicy));
    const passwords = new Passwords(accounts, audit);
    // Logout tokens are signed by the live provider, built further down; nothing sends one before that.
    const backchannelLogout = new BackchannelLogout({ provider: () => providers.current, logger, audit, ...config.backchannelLogout });
    const accountSessions = new AccountSessions(database.db, cache, digest, backchannelLogout);
    // Legal persons (法人): see enterprises/. Delegated authority for enterprises, and acting
    // for them in tokens. An acting identity outlives its login's end (it is never deleted): a
    // login whose Grant an /auth saves again after it was ended must meet its binding, checked
    // at every use, never act as the person.
    const acting = new ActingAuthority(database.db, clientLegalPolicy(clients));
    // What a ban, a reset, a cancelled grant... ends is written with the act and ended until done.
    const logouts = new LogoutOutbox(database.db, accountSessions, acting, audit, { retrySeconds: config.logoutRetrySeconds, logger });
    logouts.start();
    metrics.watchLogoutOutbox(() => logouts.waiting());
    opened.push(() => logouts.stop());
    const pendingLogins = new PendingLogins(cache, LIFETIMES.interaction);
    const recovery = new Recovery({
      flows, accounts, passwords, smsCodes, sms, logouts, audit, cache, smsPolicy: config.smsPolicy,
      throttle: new LoginThrottle(cache, config.loginPolicy),
    });
    // The account centre (个人中心): see http/account/routes.ts.
    const securityEvents = new SecurityEvents(database.db);
    const ownerCodes = new OwnerCodes(accounts, smsCodes);
    const attempts = new AttemptLimit(cache);
    const accountOverview = new AccountOverview(accounts, accountSessions, securityEvents, audit);
    const addressChange = new AddressChange(accounts, ownerCodes, audit);
    const passwordChange = new PasswordChange(passwords, accountSessions, logouts, attempts);
    const totpEnrolment = new TotpEnrolment(accounts, cache, cipher, ownerCodes, attempts, audit);
    const phoneRebinding = new PhoneRebinding({ flows, accounts, registries, smsCodes, sms, attempts, audit });
    const deregistration = new Deregistration(accounts, ownerCodes, logouts, audit);
    const clientAccess = new ClientAccess(clients, accounts, audit);
    const clientPolicies = new ClientPolicies(clients, audit);
    const qrLogins = new QrLogins(cache, accounts, audit);
    // When the register names a new representative, or stops listing the enterprise as active, logins in its name end.
    const enterprises = new Enterprises(database.db, accounts, registries, audit, logouts);
    // Applications for someone else's enterprise, and grants to persons found by phone or ID
    // number, tell whether a person holds an account here: a few lookups a day each.
    const enterpriseRegistration = new EnterpriseRegistration(database.db, accounts, enterprises, registries, smsCodes, audit, new AttemptLimit(cache, 10, DAY_SECONDS));
    const enterpriseLogin = new EnterpriseLogin(
      database.db, accounts, enterprises, smsCodes, ownerCodes, new LoginThrottle(cache, config.loginPolicy), captchas, cache, audit, LIFETIMES.interaction,
    );
    // Login through upstream identity providers (mutual recognition): see federation/federated-login.ts.
    const federation = new FederatedLogin({
      upstreams: await readUpstreamIdps(config.upstreamIdpsFile, { production: config.env === 'production' }),
      client: new UpstreamOidcClient((upstream) => federationCallback(config.issuer, upstream.id)),
      cache, cipher, db: database.db, personal: new PersonalData(cipher, digest), accounts, audit,
      ttlSeconds: 15 * 60,
      agreementVersion: config.agreementVersion,
    });

    const delegations = new Delegations(database.db, accounts, audit, serviceCatalogue(clients), new AttemptLimit(cache, 10, DAY_SECONDS), logouts);

    // The mini-program's WeChat login (wechat/): the port, bindings and the login the grant uses.
    const wechat = config.wechat.kind === 'off' ? undefined : await createWechat(config.wechat, cache);
    const bindingTickets = new BindingTickets(cache, cipher);
    const wechatBindings = new WechatBindings(new BindingStore(database.db), bindingTickets, digest, logouts, audit);
    const wechatLogin = wechat ? new WechatLogin(wechat, wechatBindings, bindingTickets, accounts, audit) : undefined;

    const renderPage = (ctx: KoaContextWithOIDC, page: string, data: Record<string, unknown> = {}, status = 200) => {
      pages.render(ctx, page, (ctx.state.locale ?? 'zh-CN') as Locale, data, status);
    };

    const providers = await ProviderHost.start((jwks) => createProvider({
      issuer: config.issuer,
      trustProxy: config.trustProxy,
      trustProxyHops: config.trustProxyHops,
      cookieKeys: config.secrets.cookieKeys,
      jwks,
      adapter,
      clients,
      resourceServers,
      logger,
      audit,
      revokeGrants: (grantIds) => accountSessions.revokeGrants(grantIds),
      metrics,
      session: config.session,
      backchannelLogout,
      outboundPrivateHosts: config.outboundPrivateHosts,
      findAccount: findAccount(accounts, (grantId) => readGrantWithAccount(database.db, grantId)),
      currentCredentialStamp: async (accountId) => {
        const row = await accounts.row(accountId);
        return row?.status === 'active' ? credentialStamp(row) : undefined;
      },
      clientAccess,
      digest,
      acting,
      wechatLogin,
      renderError: async (ctx, out, error) => {
        const locale = (ctx.state.locale ?? 'zh-CN') as Locale;
        if (storeFault(error)) {
          renderPage(ctx, 'error', { code: 'store_unavailable', message: translate(locale, 'errors.store_unavailable') }, 503);
          return;
        }
        renderPage(ctx, 'error', {
          code: out.error,
          message: translate(locale, 'errors.protocol', { description: out.error_description ?? out.error }),
        }, ctx.status >= 400 ? ctx.status : 400);
      },
      // `form` is oidc-provider's own hidden form (id op.logoutForm) with its xsrf token; our buttons submit it.
      logoutPage: async (ctx, form) => renderPage(ctx, 'logout', { form, auto: hintNamesThisSession(ctx) }),
      logoutDonePage: async (ctx) => renderPage(ctx, 'logout-done'),
    }), signingKeys, logger);

    if (importClients) {
      const entries = await ClientRegistry.readFile(config.clientsFile);
      const imported = await clients.upsert(entries, (metadata) => providers.current.Client.validate(metadata as ClientMetadata));
      logger.info({ clients: entries.map((entry) => entry.client_id), file: config.clientsFile }, 'clients imported');
      if (imported.policyKept.length > 0) logger.warn({ clients: imported.policyKept }, 'access policy set in the console kept; the file\'s policy for these clients is not applied');
    }
    if (importClients) {
      // The account centre signs citizens in through our own /auth; its redirect URI follows ISSUER.
      await clients.upsert([accountCentreClient(config.issuer)], (metadata) => providers.current.Client.validate(metadata as ClientMetadata), 'file');
    }

    const staff = buildStaffServices({
      db: database.db, cache, cipher, digest, audit, accounts, accountSessions, logouts, securityEvents, flows, registries, smsCodes, sms,
      agreementVersion: config.agreementVersion,
      enterprises, delegations, acting,
      clients, clientPolicies, production: config.env === 'production', staffPasswordMaxAgeDays: config.staffPasswordMaxAgeDays,
      validateClient: (metadata) => providers.current.Client.validate(metadata as ClientMetadata),
    });

    return {
      config, logger, database, cache, cipher, digest, clients, signingKeys, providers, metrics, pages, csrf,
      audit, registries, sms, captchas, smsCodes, accounts, authentication, flows, registration, passwords, pendingLogins, accountSessions, logouts,
      recovery,
      securityEvents, ownerCodes, accountOverview, addressChange, passwordChange, totpEnrolment, phoneRebinding, deregistration,
      clientAccess, clientPolicies,
      qrLogins,
      enterprises, enterpriseRegistration, enterpriseLogin,
      federation,
      backchannelLogout,
      acting, delegations,
      staff,
      auditRetention: new AuditRetention(database.db, audit, config.auditRetentionDays),
      wechat, wechatBindings,
      async close() {
        providers.stop();
        backchannelLogout.stop();
        for (const close of opened.reverse()) await close().catch(() => {});
      },
    };
  } catch (error) {
    for (const close of opened.reverse()) await close().catch(() => {});
    throw error;
  }
}

