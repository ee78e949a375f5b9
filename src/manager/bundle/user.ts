// Resolves an image's USER ("name", "uid", "name:group", "uid:gid") to numeric ids from the rootfs's
// /etc/passwd and /etc/group, with supplementary groups, as docker does (moby/sys/user GetExecUser).
import { errors } from '../../errors/index';
import { readFileInRoot } from './in-root';

export type ResolvedUser = { uid: number; gid: number; additionalGids: number[]; home: string };

type PasswdEntry = { name: string; uid: number; gid: number; home: string };
type GroupEntry = { name: string; gid: number; members: string[] };

function parsePasswd(text: string | undefined): PasswdEntry[] {
  return (text ?? '').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const f = l.split(':');
    return { name: f[0] ?? '', uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' };
  }).filter((e) => Number.isInteger(e.uid) && Number.isInteger(e.gid));
}

function parseGroup(text: string | undefined): GroupEntry[] {
  return (text ?? '').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const f = l.split(':');
    return { name: f[0] ?? '', gid: Number(f[2]), members: (f[3] ?? '').split(',').filter((x) => x) };
  }).filter((e) => Number.isInteger(e.gid));
}

const numeric = (s: string) => /^\d+$/.test(s);

export async function resolveUser(rootfs: string, spec: string | undefined): Promise<ResolvedUser> {
  const [u = '', g] = (spec ?? '').split(':', 2);
  const users = parsePasswd(await readFileInRoot(rootfs, '/etc/passwd'));
  const groups = parseGroup(await readFileInRoot(rootfs, '/etc/group'));
  const who = u === '' ? users.find((x) => x.uid === 0) ?? { name: 'root', uid: 0, gid: 0, home: '/root' } : numeric(u) ? users.find((x) => x.uid === Number(u)) : users.find((x) => x.name === u);
  if (!who && !numeric(u)) throw errors.invalid(`unable to find user ${u}: no matching entries in passwd file`);
  const uid = who ? who.uid : Number(u);
  let gid = who ? who.gid : 0;
  let additionalGids: number[] = [];
  if (g !== undefined && g !== '') {
    const grp = numeric(g) ? { gid: Number(g) } : groups.find((x) => x.name === g);
    if (!grp) throw errors.invalid(`unable to find group ${g}: no matching entries in group file`);
    gid = grp.gid;
  } else if (who) {
    additionalGids = groups.filter((x) => x.members.includes(who.name) && x.gid !== gid).map((x) => x.gid);
  }
  return { uid, gid, additionalGids, home: who?.home ?? '/' };
}
