/**
 * The end of a grant as a person types and reads it on a page, in China Standard Time.
 *
 * A date alone means "through that day": the grant ends at the next midnight. A date and
 * a time end it at that minute. Read back, a grant that ends at midnight shows the day
 * it covers last (有效期至 2027-03-31), never the next one, and its form is pre-filled with
 * the same date and no time, so saving a form unchanged keeps the end where it was.
 */
const CHINA_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;

/** `2027-03-31` (+ optional `14:30`) typed on a page → the instant the grant ends. */
export function grantEndOf(date: string, time?: string): Date {
  const startOfDay = Date.parse(`${date}T00:00:00Z`) - CHINA_OFFSET_MS;
  if (!time) return new Date(startOfDay + DAY_MS);
  const [hours, minutes] = time.split(':').map(Number);
  return new Date(startOfDay + ((hours ?? 0) * 60 + (minutes ?? 0)) * 60_000);
}

export interface GrantEndView {
  /** What the page shows: `2027-03-31` for a whole day, `2027-03-31 14:30` otherwise. */
  text: string;
  /** The form's date field. */
  date: string;
  /** The form's time field: empty for a whole day. */
  time: string;
}

/** The instant a grant ends → how its page shows it and pre-fills its form. */
export function grantEndView(at: Date | string): GrantEndView {
  const local = new Date(new Date(at).getTime() + CHINA_OFFSET_MS);
  const wholeDay = local.getUTCHours() === 0 && local.getUTCMinutes() === 0 && local.getUTCSeconds() === 0 && local.getUTCMilliseconds() === 0;
  if (wholeDay) {
    const date = new Date(local.getTime() - DAY_MS).toISOString().slice(0, 10);
    return { text: date, date, time: '' };
  }
  const stamp = local.toISOString();
  return { text: `${stamp.slice(0, 10)} ${stamp.slice(11, 16)}`, date: stamp.slice(0, 10), time: stamp.slice(11, 16) };
}
