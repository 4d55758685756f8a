// The one parser of date and date-time text, shared by record validation, collection migrations
// and filters, so that a date a record accepts is exactly a date a filter can compare with.

const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * `2024-05-01`, `2024-05-01T10:00`, `2024-05-01 10:00:00.5+02:00` … → `2024-05-01T10:00:00.000Z`, or
 * undefined. Strict (no rollover of 2024-02-30) and zone-independent: no offset means UTC.
 */
export function toIsoDate(text: string): string | undefined {
  const m = DATE.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((p) => (p === undefined ? undefined : Number(p)));
  const millis = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  if (month! < 1 || month! > 12 || day! < 1 || day! > new Date(Date.UTC(2000, month!, 0)).getUTCDate()) return undefined;
  if (month === 2 && day === 29 && !isLeapYear(year!)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const zone = m[8];
  let offset = 0;
  if (zone && zone !== 'Z' && zone !== 'z') {
    const digits = zone.replace(':', '');
    const hours = Number(digits.slice(1, 3));
    const minutes = Number(digits.slice(3, 5) || '0');
    if (hours > 23 || minutes > 59) return undefined;
    offset = (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  const date = new Date(0);
  date.setUTCFullYear(year!, month! - 1, day!);
  date.setUTCHours(hour, minute - offset, second, millis);
  const iso = date.toISOString();
  // Years 1–9999 keep the fixed-width form, so SQLite's text order stays time order; PostgreSQL has no year 0.
  return /^\d{4}-/.test(iso) && !iso.startsWith('0000') ? iso : undefined;
}

const isLeapYear = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
