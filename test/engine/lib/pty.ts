// Drives a command on a real pseudo-terminal (python3's pty module, which ships with Debian): waits
// for expected output before typing, so interactive scenarios (-it, detach keys, resize) do not
// depend on timing. Returns everything the terminal showed and the exit status.
import { spawn } from 'node:child_process';

export type PtyStep = { expect: string } | { send: string } | { resize: [number, number] } | { sleepMs: number };

const DRIVER = String.raw`
import json, os, pty, re, select, signal, struct, sys, fcntl, termios, time
spec = json.loads(sys.stdin.read())
rows, cols = spec['size']
pid, fd = pty.fork()
if pid == 0:
    os.environ.update(spec['env'])
    os.execvp(spec['argv'][0], spec['argv'])
def setsize(r, c):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', r, c, 0, 0))
setsize(rows, cols)
out = b''
deadline = time.time() + spec['timeout']
def pump(until=None):
    global out
    while True:
        if until is not None and re.search(until.encode(), out):
            return True
        left = deadline - time.time()
        if left <= 0:
            return False
        r, _, _ = select.select([fd], [], [], min(left, 0.2))
        if r:
            try:
                d = os.read(fd, 65536)
            except OSError:
                d = b''
            if not d:
                return until is None
            out += d
        elif until is None:
            pid_done, _ = os.waitpid(pid, os.WNOHANG)
            if pid_done:
                return True
ok = True
for step in spec['steps']:
    if 'expect' in step:
        if not pump(step['expect']):
            ok = False
            break
    elif 'send' in step:
        os.write(fd, step['send'].encode('latin-1'))
    elif 'resize' in step:
        setsize(*step['resize'])
        os.kill(pid, signal.SIGWINCH)
    elif 'sleepMs' in step:
        time.sleep(step['sleepMs'] / 1000.0)
if ok:
    pump(None)
try:
    os.kill(pid, signal.SIGKILL) if not ok else None
except ProcessLookupError:
    pass
_, status = os.waitpid(pid, 0)
code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
sys.stdout.write(json.dumps({'out': out.decode('utf-8', 'replace'), 'code': code, 'ok': ok}))
`;

export type PtyResult = { out: string; code: number; ok: boolean };

export function runInPty(argv: string[], steps: PtyStep[], opts: { env?: Record<string, string>; size?: [number, number]; timeoutMs?: number } = {}): Promise<PtyResult> {
  return new Promise((resolve, reject) => {
    const p = spawn('python3', ['-c', DRIVER], { stdio: ['pipe', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => chunks.push(d));
    p.on('error', reject);
    p.on('close', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString()) as PtyResult);
      } catch (e) {
        reject(e);
      }
    });
    p.stdin.end(JSON.stringify({ argv, steps, env: opts.env ?? {}, size: opts.size ?? [24, 80], timeout: (opts.timeoutMs ?? 30_000) / 1000 }));
  });
}
