import type { BbbMessage } from './types.js';

// The exact messageKey/message pairs BBB 2.7/3.0 answers with (reference bbb-api.md §4).
// Clients match on messageKey; some tests and proxies compare the text too, so it is verbatim.
export const BBB_ERRORS = {
  checksumError: { messageKey: 'checksumError', message: 'Checksums do not match' },
  checksumMissing: { messageKey: 'checksumError', message: 'You must provide the checksum' },
  checksumErrorRecordings: {
    messageKey: 'checksumError',
    message: 'You did not pass the checksum security check',
  },
  unsupportedContentType: {
    messageKey: 'unsupportedContentType',
    message: 'POST request Content-Type is missing or unsupported',
  },
  requestNotRecognized: { messageKey: 'validationError', message: 'Request not recognized' },
  invalidMeetingId: { messageKey: 'validationError', message: 'Invalid meeting ID' },
  missingParamMeetingID: { messageKey: 'missingParamMeetingID', message: 'You must provide a meeting ID' },
  meetingIdSize: { messageKey: 'sizeError', message: 'Meeting ID must be between 2 and 256 characters' },
  meetingIdComma: { messageKey: 'validationError', message: "Meeting ID cannot contain ','" },
  meetingNameMissing: { messageKey: 'nullError', message: 'You must provide a meeting name' },
  meetingNameSize: { messageKey: 'sizeError', message: 'Meeting name must be between 2 and 256 characters' },
  recordNotBoolean: { messageKey: 'validationError', message: 'Record must be a boolean value (true or false)' },
  voiceBridgeNotIntegral: { messageKey: 'validationError', message: 'Voice bridge must be an integral value' },
  guestNotBoolean: { messageKey: 'validationError', message: 'Guest must be a boolean value (true or false)' },
  authNotBoolean: { messageKey: 'validationError', message: 'Auth must be a boolean value (true or false)' },
  notIntegral: { messageKey: 'validationError', message: 'Value must be an integral number' },
  invalidPasswordLength: { messageKey: 'invalidPassword', message: 'Invalid password' },
  endWrongPassword: { messageKey: 'invalidPassword', message: 'The supplied moderator password is incorrect' },
  joinInvalidPassword: { messageKey: 'Params required', message: 'You must enter a valid password' },
  joinRoleNeeded: {
    messageKey: 'Params required',
    message: "You must send the 'role' parameter, since this meeting doesn't have any password.",
  },
  joinNoRoleNoPassword: {
    messageKey: 'Params required',
    message: 'You must either send the valid role of the user, or the password, sould the meeting has one.',
  },
  idNotUnique: {
    messageKey: 'idNotUnique',
    message: 'A meeting already exists with that meeting ID.  Please use a different meeting ID.',
  },
  duplicateWarning: {
    messageKey: 'duplicateWarning',
    message: 'This conference was already in existence and may currently be in progress.',
  },
  nonUniqueVoiceBridge: { messageKey: 'nonUniqueVoiceBridge', message: 'The selected voice bridge is already in use.' },
  parentMeetingIdMissing: {
    messageKey: 'parentMeetingIdMissing',
    message: 'No parent meeting ID was provided for the breakout room',
  },
  notFound: { messageKey: 'notFound', message: 'A meeting with that ID does not exist' },
  invalidMeetingIdentifier: { messageKey: 'invalidMeetingIdentifier', message: 'A meeting with that ID does not exist' },
  meetingForciblyEnded: {
    messageKey: 'meetingForciblyEnded',
    message: 'You can not join a meeting that has already been forcibly ended',
  },
  missingParamFullName: { messageKey: 'missingParamFullName', message: 'You must provide your name' },
  mismatchCreateTimeParam: {
    messageKey: 'mismatchCreateTimeParam',
    message: 'The createTime parameter submitted mismatches with the current meeting.',
  },
  maxParticipantsReached: {
    messageKey: 'maxParticipantsReached',
    message: 'The number of participants allowed for this meeting has been reached.',
  },
  guestDeniedAccess: {
    messageKey: 'guestDeniedAccess',
    message: "You have been denied access to this meeting based on the meeting's guest policy",
  },
  noMeetings: { messageKey: 'noMeetings', message: 'no meetings were found on this server' },
  noRecordings: { messageKey: 'noRecordings', message: 'There are no recordings for the meeting(s).' },
  recordingsNotFound: { messageKey: 'notFound', message: 'We could not find recordings' },
  missingParamRecordID: { messageKey: 'missingParamRecordID', message: 'You must specify a recordID.' },
  missingParamPublish: { messageKey: 'missingParamPublish', message: 'You must specify a publish value true or false.' },
  sentEndMeetingRequest: {
    messageKey: 'sentEndMeetingRequest',
    message:
      'A request to end the meeting was sent.  Please wait a few seconds, and then use the getMeetingInfo or isMeetingRunning API calls to verify that it was ended.',
  },
  successfullyJoined: { messageKey: 'successfullyJoined', message: 'You have joined successfully.' },
  guestWait: { messageKey: 'guestWait', message: 'Guest waiting for approval to join meeting.' },
  apiNotEnabled: {
    messageKey: 'apiNotEnabled',
    message: 'The API service and/or controller is not enabled on this server.  To use it, you must first enable it.',
  },
  chatMessageSize: { messageKey: 'sizeError', message: 'Param message must be between 1 and 500 characters' },
  chatMessageMissing: { messageKey: 'nullError', message: 'You must provide the param message' },
} as const satisfies Record<string, BbbMessage>;

export type BbbErrorName = keyof typeof BBB_ERRORS;
