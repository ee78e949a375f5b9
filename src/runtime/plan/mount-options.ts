// The runtime-spec mount option table (config-linux.md "Mount options"; runc's
// libcontainer/specconv mountPropagationMapping and recAttrFlags): options → flags, propagation,
// mount_setattr attributes and the leftover data string. Pure; knows nothing about mount order.
import { errors } from '../../errors/index';
import { MOUNT_ATTR as A, MS } from './constants';

export type ParsedOptions = {
  flags: number;
  propagation: number;
  attrSet: number;
  attrClr: number;
  data: string[];
  bind: boolean;
  /** `idmap` or `ridmap` (config.md "Mounts"): an id-mapped bind, the mapping applied to the top
   * mount or to every mount of the tree; null = neither given. */
  idmap: 'idmap' | 'ridmap' | null;
  /** `tmpcopyup` (runc extension): a tmpfs starts with a copy of the directory it covers. */
  copyUp: boolean;
};

/** option → [set, clear] of MS_* flags. */
const FLAGS: Record<string, [number, number]> = {
  async: [0, MS.SYNCHRONOUS],
  atime: [0, MS.NOATIME],
  bind: [MS.BIND, 0],
  defaults: [0, 0],
  dev: [0, MS.NODEV],
  diratime: [0, MS.NODIRATIME],
  dirsync: [MS.DIRSYNC, 0],
  exec: [0, MS.NOEXEC],
  iversion: [MS.I_VERSION, 0],
  lazytime: [MS.LAZYTIME, 0],
  loud: [0, MS.SILENT],
  mand: [MS.MANDLOCK, 0],
  noatime: [MS.NOATIME, 0],
  nodev: [MS.NODEV, 0],
  nodiratime: [MS.NODIRATIME, 0],
  noexec: [MS.NOEXEC, 0],
  noiversion: [0, MS.I_VERSION],
  nolazytime: [0, MS.LAZYTIME],
  nomand: [0, MS.MANDLOCK],
  norelatime: [0, MS.RELATIME],
  nostrictatime: [0, MS.STRICTATIME],
  nosuid: [MS.NOSUID, 0],
  nosymfollow: [MS.NOSYMFOLLOW, 0],
  rbind: [MS.BIND | MS.REC, 0],
  relatime: [MS.RELATIME, 0],
  remount: [MS.REMOUNT, 0],
  ro: [MS.RDONLY, 0],
  rw: [0, MS.RDONLY],
  silent: [MS.SILENT, 0],
  strictatime: [MS.STRICTATIME, 0],
  suid: [0, MS.NOSUID],
  symfollow: [0, MS.NOSYMFOLLOW],
  sync: [MS.SYNCHRONOUS, 0],
};

const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** Recursive options → [attr_set, attr_clr] for mount_setattr(2). The atime values are an enum, so
 * changing them must clear MOUNT_ATTR__ATIME as a whole (mount_setattr(2), "attr_clr"). */
const RECURSIVE: Record<string, [number, number]> = {
  rro: [A.RDONLY, 0],
  rrw: [0, A.RDONLY],
  rnosuid: [A.NOSUID, 0],
  rsuid: [0, A.NOSUID],
  rnodev: [A.NODEV, 0],
  rdev: [0, A.NODEV],
  rnoexec: [A.NOEXEC, 0],
  rexec: [0, A.NOEXEC],
  rnodiratime: [A.NODIRATIME, 0],
  rdiratime: [0, A.NODIRATIME],
  rrelatime: [A.RELATIME, A._ATIME],
  rnorelatime: [A.STRICTATIME, A._ATIME],
  rnoatime: [A.NOATIME, A._ATIME],
  ratime: [A.RELATIME, A._ATIME],
  rstrictatime: [A.STRICTATIME, A._ATIME],
  rnostrictatime: [A.RELATIME, A._ATIME],
  rnosymfollow: [A.NOSYMFOLLOW, 0],
  rsymfollow: [0, A.NOSYMFOLLOW],
};

/** Resolves one mount's options in order (a later option overrides an earlier one, as in mount(8)). */
export function parseMountOptions(options: readonly string[], destination: string): ParsedOptions {
  const out: ParsedOptions = { flags: 0, propagation: 0, attrSet: 0, attrClr: 0, data: [], bind: false, idmap: null, copyUp: false };
  for (const opt of options) {
    const f = FLAGS[opt];
    if (f) {
      out.flags = (out.flags | f[0]) & ~f[1];
      if (opt === 'bind' || opt === 'rbind') out.bind = true;
      continue;
    }
    const p = PROPAGATION[opt];
    if (p !== undefined) {
      out.propagation = p;
      continue;
    }
    const r = RECURSIVE[opt];
    if (r) {
      out.attrSet = (out.attrSet & ~r[1]) | r[0];
      out.attrClr = (out.attrClr & ~r[0]) | r[1];
      continue;
    }
    if (opt === 'tmpcopyup') {
      out.copyUp = true;
      continue;
    }
    if (opt === 'idmap' || opt === 'ridmap') {
      // Never passed to mount(2) (config.md); the last of the two wins, like any other option.
      out.idmap = opt;
      continue;
    }
    if (/^r?idmap=/.test(opt)) {
      // crun's "idmap=uids=…;gids=…" form is not runtime-spec: mounts[].uidMappings says the same.
      throw errors.invalid(`mount ${destination}: option ${opt}: give the mapping in uidMappings and gidMappings`);
    }
    out.data.push(opt);
  }
  return out;
}

/** The options parseMountOptions turns into id-mapped mounts (features: mountExtensions.idmap). */
export const idmapMountOptions: readonly string[] = ['idmap', 'ridmap'];

/** Every mount option the compiler understands (for `keel features`). */
export const supportedMountOptions: readonly string[] = [
  ...Object.keys(FLAGS),
  ...Object.keys(PROPAGATION),
  ...Object.keys(RECURSIVE),
  ...idmapMountOptions,
  'tmpcopyup',
];
