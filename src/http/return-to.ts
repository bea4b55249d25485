/** Only our own interaction pages may be returned to after a self-service flow: no open redirect. */
export function safeReturnTo(value: unknown): string | undefined {
  return typeof value === 'string' && /^\/interaction\/[A-Za-z0-9_-]{1,64}$/.test(value) ? value : undefined;
}
