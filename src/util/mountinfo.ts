// One parser of /proc/<pid>/mountinfo (proc_pid_mountinfo(5)) for everything that reads it: cgroup
// hierarchy detection, the v1 cgroup mount's sources, and the mounts a container without a mount
// namespace leaves below its rootfs. Pure: callers read the file.

/** One mountinfo line; paths have their \ooo escapes decoded. */
export type MountinfoEntry = {
  /** mount id (field 1) */
  id: number;
  /** the directory of the filesystem that is mounted (field 4) */
  root: string;
  /** where it is mounted (field 5) */
  mountPoint: string;
  fsType: string;
  /** per-superblock options, e.g. "rw,cpu,cpuacct" */
  superOptions: string;
};

/** The kernel escapes space, tab, newline and backslash as \ooo. */
export function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(text: string): MountinfoEntry[] {
  const out: MountinfoEntry[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const post = line.slice(sep + 3).split(' ');
    if (pre.length < 5) continue;
    out.push({
      id: Number(pre[0]),
      root: unescapeMountinfo(pre[3]!),
      mountPoint: unescapeMountinfo(pre[4]!),
      fsType: post[0] ?? '',
      superOptions: post[2] ?? '',
    });
  }
  return out;
}
