import { idNumberCheckCharacter } from '../../src/identity/id-number.js';

/**
 * The bench's citizens, derived from their index alone, so the seeder and the driver
 * agree on who exists without passing a million rows between processes.
 *
 * ID numbers: region 110105, one birth date per thousand people counted from 1950-01-01,
 * a three-digit sequence and the GB 11643 check character; unique up to 27 million.
 * Phones: 1[3-9] and nine digits, unique up to 7 billion.
 */
export const BENCH_PASSWORD = 'Bench-Civic-2026!';

const REGION = '110105';
const FIRST_BIRTH_DAY = Date.UTC(1950, 0, 1);
const DAY_MS = 86_400_000;
const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗';
const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平';

export interface Person {
  idNumber: string;
  phone: string;
  name: string;
}

export function idNumberOf(index: number): string {
  const birth = new Date(FIRST_BIRTH_DAY + Math.floor(index / 1000) * DAY_MS);
  const date = `${birth.getUTCFullYear()}${String(birth.getUTCMonth() + 1).padStart(2, '0')}${String(birth.getUTCDate()).padStart(2, '0')}`;
  const first17 = `${REGION}${date}${String(index % 1000).padStart(3, '0')}`;
  return first17 + idNumberCheckCharacter(first17);
}

export function phoneOf(index: number): string {
  return `1${3 + (Math.floor(index / 1e9) % 7)}${String(index % 1e9).padStart(9, '0')}`;
}

export function nameOf(index: number): string {
  return SURNAMES[index % SURNAMES.length]! + GIVEN[Math.floor(index / SURNAMES.length) % GIVEN.length]!;
}

export function personOf(index: number): Person {
  return { idNumber: idNumberOf(index), phone: phoneOf(index), name: nameOf(index) };
}
