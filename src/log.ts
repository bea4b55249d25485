import { pino, type Logger, type DestinationStream } from 'pino';

/**
 * Field names that hold secrets or personal data. Whatever nests them, pino replaces
 * their values before a line is written, so a careless log call cannot leak them.
 */
const SENSITIVE_FIELDS = [
  'password', 'newPassword', 'currentPassword', 'secret', 'client_secret', 'smsCode', 'otp', 'totp',
  'token', 'access_token', 'refresh_token', 'id_token', 'id_token_hint', 'code_verifier', 'assertion',
  'idNumber', 'id_number', 'phone', 'phone_number', 'bankCard', 'cardNumber', 'socialSecurityCard',
  'housingFundAccount', 'driverLicenseFileNumber', 'name', 'authorization', 'cookie', 'set-cookie',
  // Error codes stay readable: one-time codes are logged under smsCode/otp, never as "code".
];

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const field of SENSITIVE_FIELDS) {
    const key = /^[A-Za-z_$][\w$]*$/.test(field) ? field : `["${field}"]`;
    const join = (prefix: string) => (key.startsWith('[') ? `${prefix}${key}` : `${prefix}.${key}`);
    paths.push(key.startsWith('[') ? `${key}` : field, join('*'), join('*.*'));
  }
  paths.push('req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]');
  return paths;
}

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths(), censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
