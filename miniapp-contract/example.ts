// A typed sign-in and one call, checked against types.ts by the test command (tsc --strict). The mini-app's own
// request function (dd.httpRequest underneath) stands behind `http`.
import type { components, paths } from './types';

type SignInBody = paths['/api/auth/dingtalk']['post']['requestBody']['content']['application/json'];
type SignedIn = paths['/api/auth/dingtalk']['post']['responses'][200]['content']['application/json'];
type Me = paths['/api/me']['get']['responses'][200]['content']['application/json'];
type Problem = components['schemas']['ProblemDetails'];

declare function http(method: 'GET' | 'POST', path: string, token: string | null, body?: unknown): Promise<{ status: number; data: unknown }>;
declare const dd: { getAuthCode(o: { corpId: string; success(r: { authCode: string }): void; fail(e: unknown): void }): void };

class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.title} (${problem.code}, trace ${problem.traceId})`);
  }
}

async function call<T>(method: 'GET' | 'POST', path: string, token: string | null, body?: unknown): Promise<T> {
  const response = await http(method, path, token, body);
  if (response.status >= 400) {
    throw new ApiError(response.data as Problem); // switch on problem.code; show problem.title
  }
  return response.data as T;
}

export async function signIn(corpId: string): Promise<SignedIn> {
  const authCode = await new Promise<string>((resolve, reject) =>
    dd.getAuthCode({ corpId, success: r => resolve(r.authCode), fail: reject }));
  const body: SignInBody = { corpId, authCode };
  return call<SignedIn>('POST', '/api/auth/dingtalk', null, body);
}

export async function whoAmI(session: SignedIn): Promise<string> {
  const me = await call<Me>('GET', '/api/me', session.accessToken);
  const children = me.children.map(c => c.name).join('、');
  return `${me.name}${children ? `（${children}的家长）` : ''}`;
}
