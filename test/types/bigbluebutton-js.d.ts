// Types for the parts of the untyped CommonJS package bigbluebutton-js 0.2 the tests use.
declare module 'bigbluebutton-js' {
  type Params = Record<string, string | number | boolean>;
  interface Api {
    administration: {
      create(name: string, id: string, kwparams?: Params): string;
      join(fullName: string, meetingID: string, password: string, kwparams?: Params): string;
      end(meetingID: string, password: string): string;
    };
    monitoring: {
      getMeetingInfo(meetingID: string): string;
      isMeetingRunning(meetingID: string): string;
      getMeetings(): string;
    };
    recording: {
      getRecordings(kwparams?: Params): string;
      publishRecordings(recordID: string, publish: boolean): string;
      deleteRecordings(recordID: string): string;
      updateRecordings(recordID: string, kwparams?: Params): string;
    };
  }
  const bbb: {
    api(host: string, salt: string): Api;
    /** GETs the URL and parses the XML answer's <response> into an object. */
    http(url: string): Promise<Record<string, unknown>>;
  };
  export default bbb;
}
