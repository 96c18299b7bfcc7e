import { describe, expect, it } from 'vitest';
import { bodyKindAllowed, bodyKindOf, callNameOf, parseBbbRequest, parseForm, splitUrl } from '../../src/bbb/request.js';

describe('request parsing', () => {
  it('keeps the raw query exactly as received', () => {
    expect(splitUrl('/bigbluebutton/api/create?b=%20x&a=1+2&checksum=ff')).toEqual({
      path: '/bigbluebutton/api/create',
      rawQuery: 'b=%20x&a=1+2&checksum=ff',
    });
    expect(splitUrl('/bigbluebutton/api/getMeetings')).toEqual({ path: '/bigbluebutton/api/getMeetings', rawQuery: '' });
  });

  it('names the call, including the index and hooks calls', () => {
    expect(callNameOf('/bigbluebutton/api')).toBe('');
    expect(callNameOf('/bigbluebutton/api/')).toBe('');
    expect(callNameOf('/bigbluebutton/api/join')).toBe('join');
    expect(callNameOf('/bigbluebutton/api/hooks/create')).toBe('hooks/create');
    expect(callNameOf('/bigbluebutton/apix')).toBeUndefined();
    expect(callNameOf('/other')).toBeUndefined();
    expect(callNameOf('/t/acme/bigbluebutton/api/create', '/t/acme/bigbluebutton/api')).toBe('create');
  });

  it('decodes form values, first value wins, control characters stripped', () => {
    const params = parseForm('name=Caf%C3%A9+Cr%C3%A8me&x=1&x=2&bad=%E0%A4%A&ctl=a%0Ab&flag');
    expect(params.get('name')).toBe('Café Crème');
    expect(params.get('x')).toBe('1');
    expect(params.get('bad')).toBe('%E0%A4%A');
    expect(params.get('ctl')).toBe('ab');
    expect(params.get('flag')).toBe('');
  });

  it('classifies POST bodies by content type as bbb-web does', () => {
    expect(bodyKindOf(undefined, 0)).toBe('none');
    expect(bodyKindOf(undefined, 10)).toBe('unsupported');
    expect(bodyKindOf('application/x-www-form-urlencoded; charset=UTF-8', 10)).toBe('form');
    expect(bodyKindOf('text/xml', 10)).toBe('xml');
    expect(bodyKindOf('multipart/form-data; boundary=x', 10)).toBe('multipart');
    expect(bodyKindAllowed('create', 'xml')).toBe(true);
    expect(bodyKindAllowed('insertDocument', 'form')).toBe(false);
    expect(bodyKindAllowed('insertDocument', 'xml')).toBe(true);
    expect(bodyKindAllowed('end', 'xml')).toBe(false);
    expect(bodyKindAllowed('end', 'form')).toBe(true);
  });

  it('merges a form body after the query and keeps the body apart for the checksum', () => {
    const parsed = parseBbbRequest({
      method: 'POST',
      url: '/bigbluebutton/api/create?meetingID=q',
      contentType: 'application/x-www-form-urlencoded',
      body: 'meetingID=b&name=N',
    });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.request.params.get('meetingID')).toBe('q');
    expect(parsed.request.params.get('name')).toBe('N');
    expect(parsed.request.bodyParams?.get('meetingID')).toBe('b');
  });

  it('keeps an XML body for create and refuses bad content types', () => {
    const xml = parseBbbRequest({ method: 'POST', url: '/bigbluebutton/api/create?x=1', contentType: 'application/xml', body: '<modules/>' });
    expect(xml.ok && xml.request.xmlBody).toBe('<modules/>');
    const bad = parseBbbRequest({ method: 'POST', url: '/bigbluebutton/api/end', contentType: 'application/json', body: '{}' });
    expect(bad).toEqual({ ok: false, reason: 'unsupportedContentType' });
    expect(parseBbbRequest({ method: 'GET', url: '/nope' })).toEqual({ ok: false, reason: 'notApi' });
  });
});
