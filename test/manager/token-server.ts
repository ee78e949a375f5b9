// Test fixture: a small token server for distribution's token auth (docs/spec/auth/token.md, jwt.md).
// RS256 JWTs with an x5c header whose self-signed certificate (made by openssl) is the registry's
// rootcertbundle. Anonymous callers get pull; USER/PASSWORD get pull and push; bad passwords get 401.
import { execFile } from 'node:child_process';
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export type TokenServer = {
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
  /** Every Authorization header the server saw (to prove secrets only travel there). */
  requests: { url: string; authorization?: string }[];
  stop(): Promise<void>;
};

export async function startTokenServer(dir: string, users: Record<string, string>): Promise<TokenServer> {
  const keyPath = path.join(dir, 'token.key');
  const certPath = path.join(dir, 'token.crt');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=dock-test-token']);
  const key = await readFile(keyPath, 'utf8');
  const der = new X509Certificate(await readFile(certPath)).raw;
  const service = 'dock-test-registry';
  const issuer = 'dock-test-issuer';
  const requests: TokenServer['requests'] = [];

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push({ url: req.url ?? '', ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    let account: string | undefined;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Basic ')) {
      const [u, p] = Buffer.from(auth.slice(6), 'base64').toString().split(/:(.*)/s);
      if (!u || users[u] !== p) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      account = u;
    }
    const access = url.searchParams.getAll('scope').flatMap((s) => {
      const [type, name, actions] = [s.split(':')[0], s.split(':').slice(1, -1).join(':'), s.split(':').at(-1) ?? ''];
      const granted = actions.split(',').filter((a) => a === 'pull' || (a === 'push' && account !== undefined));
      return type === 'repository' ? [{ type, name, actions: granted }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [der.toString('base64')] };
    const claims = { iss: issuer, sub: account ?? '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(signing).sign(key);
    const token = `${signing}.${b64url(sig)}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  };
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    requests,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
