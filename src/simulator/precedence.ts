import type { BbbMessage } from '../bbb/types.js';

// bbb-web collects validation violations into a Java HashMap<key, message> and answers with the
// first entry in iteration order (bbb-api.md §3.2). For a 16-bucket map the bucket of each key
// decides; keys in one bucket keep their insertion order. Unknown keys sort last.
const BUCKET: Readonly<Record<string, number>> = {
  checksumError: 1,
  unsupportedContentType: 1,
  guestDeny: 3,
  emptyError: 4,
  maxParticipantsReached: 5,
  missingParamFullName: 6,
  meetingForciblyEnded: 7,
  invalidPassword: 8,
  notFound: 10,
  invalidMeetingIdentifier: 10,
  sizeError: 11,
  validationError: 14,
  nullError: 14,
  missingParamMeetingID: 15,
  missingSession: 15,
  missingToken: 15,
};

/** The violation bbb-web would report among several; undefined when there is none. */
export function firstViolation(violations: readonly BbbMessage[]): BbbMessage | undefined {
  let best: BbbMessage | undefined;
  let bestBucket = Number.POSITIVE_INFINITY;
  for (const v of violations) {
    const bucket = BUCKET[v.messageKey] ?? 16;
    // Strictly lower only: the first inserted of a bucket wins, like a HashMap bucket chain.
    if (bucket < bestBucket) {
      best = v;
      bestBucket = bucket;
    }
  }
  return best;
}
