// Random identifiers in BBB's shapes. The random source is injected so tests can be exact;
// these ids are not secrets in a simulator, so a fast non-cryptographic source is fine.

export type RandomSource = () => number;

export const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const MIXED_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomString(length: number, alphabet: string, random: RandomSource): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)] ?? alphabet[0];
  return out;
}

/** `RandomStringUtils.randomAlphanumeric(8)`: BBB's generated attendee/moderator password. */
export const randomPassword = (random: RandomSource): string => randomString(8, MIXED_ALNUM, random);

/** A `defaultNumDigitsForTelVoice` (5) digit voice bridge without a leading zero. */
export const randomVoiceBridge = (random: RandomSource): string => String(10000 + Math.floor(random() * 90000));
