// Secrets that can hide inside free text (an error's message or stack, a URL): a BBB checksum or
// a password in a query string, a password in a URL's user info. Replaced by `***`.

/** Query parameters whose value is never printed. */
export const SECRET_PARAMS = ['checksum', 'password', 'passwd', 'pass', 'pwd', 'secret', 'token', 'access_token', 'auth', 'key', 'moderatorPW', 'attendeePW'];

const PARAM = new RegExp(`([?&;\\s"'(]|^)(${SECRET_PARAMS.join('|')})=([^&;\\s"'#)]*)`, 'gi');
const USER_INFO = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]*@/gi;

/** `text` with every `checksum=…`, `password=…` (and the like) value and URL password replaced by `***`. */
export function redactText(text: string): string {
  return text.replace(PARAM, (_m, before: string, name: string) => `${before}${name}=***`).replace(USER_INFO, '$1***@');
}
