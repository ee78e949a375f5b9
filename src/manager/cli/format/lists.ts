// List contexts of `images`, `volume ls`, `network ls`, `history` and `diff`, with docker's field
// names, headers and default table formats (formatter/image.go, volume.go, network/formatter.go,
// image/formatter_history.go, container/formatter_diff.go).
import { goQuote } from '../go-strconv';
import { GoStruct } from '../template/values';
import { humanDuration, humanSize, humanSizeWithPrecision } from '../units';
import { familiarRepository, parseNormalized } from '../../images/reference';
import { DEFAULT_QUIET, ellipsis, goTimeString, goTimeStringRfc3339, joinLabels, RAW, TABLE, truncateId } from './formatter';

export type ImageSummary = {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created?: number;
  Size?: number;
  SharedSize?: number;
  Containers?: number;
  Labels?: Record<string, string> | null;
};

export const IMAGE_HEADER: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

const IMAGE_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
const IMAGE_TABLE_DIGEST = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

export function imageFormat(source: string, quiet: boolean, digest: boolean): string {
  if (source === TABLE) return quiet ? DEFAULT_QUIET : digest ? IMAGE_TABLE_DIGEST : IMAGE_TABLE;
  if (source === RAW) {
    if (quiet) return 'image_id: {{.ID}}';
    return digest
      ? 'repository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n'
      : 'repository: {{ .Repository }}\ntag: {{.Tag}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n';
  }
  if (source.startsWith(TABLE) && digest && !source.includes('{{.Digest}}')) return source + '\t{{.Digest}}';
  return source;
}

export class ImageContext extends GoStruct {
  constructor(
    private readonly i: ImageSummary = { Id: '' },
    private readonly trunc = false,
    private readonly repo = '',
    private readonly tag = '',
    private readonly digest = '',
    private readonly now = Date.now(),
  ) {
    super();
  }
  goType(): string {
    return '*formatter.imageContext';
  }
  get ID(): string {
    return this.trunc ? truncateId(this.i.Id) : this.i.Id;
  }
  get Repository(): string {
    return this.repo;
  }
  get Tag(): string {
    return this.tag;
  }
  get Digest(): string {
    return this.digest;
  }
  get CreatedSince(): string {
    // time.Unix(created).IsZero() is never true for an int64 seconds value.
    return `${humanDuration(this.now - (this.i.Created ?? 0) * 1000)} ago`;
  }
  get CreatedAt(): string {
    return goTimeString((this.i.Created ?? 0) * 1000);
  }
  get Size(): string {
    return humanSizeWithPrecision(this.i.Size ?? 0, 3);
  }
  get Containers(): string {
    return this.i.Containers === -1 || this.i.Containers === undefined ? 'N/A' : String(this.i.Containers);
  }
  get VirtualSize(): string {
    return humanSize(this.i.Size ?? 0);
  }
  get SharedSize(): string {
    return this.i.SharedSize === -1 || this.i.SharedSize === undefined ? 'N/A' : humanSize(this.i.SharedSize);
  }
  get UniqueSize(): string {
    if (this.i.Size === -1 || this.i.SharedSize === -1 || this.i.SharedSize === undefined) return 'N/A';
    return humanSize((this.i.Size ?? 0) - this.i.SharedSize);
  }
}

function isDangling(img: ImageSummary): boolean {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

/** One context per (repository, tag[, digest]) of each image, as docker's imageFormat expands them. */
export function imageContexts(images: ImageSummary[], trunc: boolean, showDigest: boolean, format: string): ImageContext[] {
  const needDigest = showDigest || format.includes('{{.Digest}}');
  const out: ImageContext[] = [];
  for (const img of images) {
    if (isDangling(img)) {
      out.push(new ImageContext(img, trunc, '<none>', '<none>', '<none>'));
      continue;
    }
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const r of img.RepoTags ?? []) {
      try {
        const ref = parseNormalized(r);
        if (ref.tag === undefined) continue;
        const name = familiarRepository(ref);
        repoTags.set(name, [...(repoTags.get(name) ?? []), ref.tag]);
      } catch {
        /* skipped, as docker does */
      }
    }
    for (const r of img.RepoDigests ?? []) {
      try {
        const ref = parseNormalized(r);
        if (ref.digest === undefined) continue;
        const name = familiarRepository(ref);
        repoDigests.set(name, [...(repoDigests.get(name) ?? []), ref.digest]);
      } catch {
        /* skipped */
      }
    }
    for (const [repo, tags] of repoTags) {
      let digests = repoDigests.get(repo) ?? [];
      repoDigests.delete(repo);
      if (!needDigest) digests = [];
      for (const tag of tags) {
        if (digests.length === 0) out.push(new ImageContext(img, trunc, repo, tag, '<none>'));
        else for (const d of digests) out.push(new ImageContext(img, trunc, repo, tag, d));
      }
    }
    for (const [repo, digests] of repoDigests) {
      if (showDigest) for (const d of digests) out.push(new ImageContext(img, trunc, repo, '<none>', d));
      else out.push(new ImageContext(img, trunc, repo, '<none>', ''));
    }
  }
  return out;
}

export type Volume = {
  Name: string;
  Driver?: string;
  Mountpoint?: string;
  Scope?: string;
  Labels?: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
};

export const VOLUME_HEADER: Record<string, string> = {
  ID: 'ID',
  Name: 'VOLUME NAME',
  Group: 'GROUP',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Availability: 'AVAILABILITY',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Links: 'LINKS',
  Size: 'SIZE',
  Status: 'STATUS',
};

export function volumeFormat(source: string, quiet: boolean): string {
  if (source === TABLE) return quiet ? '{{.Name}}' : 'table {{.Driver}}\t{{.Name}}';
  if (source === RAW) return quiet ? 'name: {{.Name}}' : 'name: {{.Name}}\\ndriver: {{.Driver}}\\n';
  return source;
}

export class VolumeContext extends GoStruct {
  constructor(private readonly v: Volume = { Name: '' }) {
    super();
  }
  goType(): string {
    return '*formatter.volumeContext';
  }
  get Name(): string {
    return this.v.Name;
  }
  get Driver(): string {
    return this.v.Driver ?? '';
  }
  get Scope(): string {
    return this.v.Scope ?? '';
  }
  get Mountpoint(): string {
    return this.v.Mountpoint ?? '';
  }
  get Labels(): string {
    return joinLabels(this.v.Labels);
  }
  Label(name: string): string {
    return this.v.Labels?.[name] ?? '';
  }
  get Links(): string {
    return this.v.UsageData ? String(this.v.UsageData.RefCount) : 'N/A';
  }
  get Size(): string {
    return this.v.UsageData ? humanSize(this.v.UsageData.Size) : 'N/A';
  }
  get Group(): string {
    return 'N/A';
  }
  get Availability(): string {
    return 'N/A';
  }
  get Status(): string {
    return 'N/A';
  }
}

export type NetworkSummary = {
  Id: string;
  Name: string;
  Driver?: string;
  Scope?: string;
  Created?: string;
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  Internal?: boolean;
  Labels?: Record<string, string> | null;
};

export const NETWORK_HEADER: Record<string, string> = {
  ID: 'NETWORK ID',
  Name: 'NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  IPv4: 'IPV4',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  Labels: 'LABELS',
  CreatedAt: 'CREATED AT',
};

export function networkFormat(source: string, quiet: boolean): string {
  if (source === TABLE) return quiet ? DEFAULT_QUIET : 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
  if (source === RAW) return quiet ? 'network_id: {{.ID}}' : 'network_id: {{.ID}}\\nname: {{.Name}}\\ndriver: {{.Driver}}\\nscope: {{.Scope}}\\n';
  return source;
}

export class NetworkContext extends GoStruct {
  constructor(
    private readonly n: NetworkSummary = { Id: '', Name: '' },
    private readonly trunc = false,
  ) {
    super();
  }
  goType(): string {
    return '*network.networkContext';
  }
  get ID(): string {
    return this.trunc ? truncateId(this.n.Id) : this.n.Id;
  }
  get Name(): string {
    return this.n.Name;
  }
  get Driver(): string {
    return this.n.Driver ?? '';
  }
  get Scope(): string {
    return this.n.Scope ?? '';
  }
  get IPv4(): string {
    return String(!!this.n.EnableIPv4);
  }
  get IPv6(): string {
    return String(!!this.n.EnableIPv6);
  }
  get Internal(): string {
    return String(!!this.n.Internal);
  }
  get Labels(): string {
    return joinLabels(this.n.Labels);
  }
  Label(name: string): string {
    return this.n.Labels?.[name] ?? '';
  }
  get CreatedAt(): string {
    return this.n.Created ? goTimeStringRfc3339(this.n.Created) : '0001-01-01 00:00:00 +0000 UTC';
  }
}

export type HistoryItem = { Id: string; Created: number; CreatedBy: string; Tags?: string[] | null; Size: number; Comment: string };

export const HISTORY_HEADER: Record<string, string> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

export function historyFormat(source: string, quiet: boolean, human: boolean): string {
  if (source === TABLE) {
    if (quiet) return DEFAULT_QUIET;
    if (!human) return 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
    return 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
  }
  return source;
}

export class HistoryContext extends GoStruct {
  constructor(
    private readonly h: HistoryItem,
    private readonly trunc: boolean,
    private readonly human: boolean,
    private readonly now = Date.now(),
  ) {
    super();
  }
  goType(): string {
    return '*image.historyContext';
  }
  get ID(): string {
    return this.trunc ? truncateId(this.h.Id) : this.h.Id;
  }
  get CreatedSince(): string {
    if (!this.human) return this.CreatedAt;
    if (this.h.Created <= 946684800) return 'N/A';
    return `${humanDuration(this.now - this.h.Created * 1000)} ago`;
  }
  get CreatedAt(): string {
    return rfc3339Local(this.h.Created);
  }
  get CreatedBy(): string {
    let by = this.h.CreatedBy.replace(/\t/g, ' ');
    if (this.trunc) by = ellipsis(by, 45);
    return by;
  }
  get Size(): string {
    return this.human ? humanSizeWithPrecision(this.h.Size, 3) : String(this.h.Size);
  }
  get Comment(): string {
    return this.h.Comment;
  }
}

/** time.Unix(t, 0).Format(time.RFC3339) in the local zone. */
export function rfc3339Local(sec: number): string {
  const d = new Date(sec * 1000);
  const off = -d.getTimezoneOffset();
  const l = new Date(sec * 1000 + off * 60000);
  const p = (n: number) => String(n).padStart(2, '0');
  const z = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${l.getUTCFullYear()}-${p(l.getUTCMonth() + 1)}-${p(l.getUTCDate())}T${p(l.getUTCHours())}:${p(l.getUTCMinutes())}:${p(l.getUTCSeconds())}${z}`;
}

export const DIFF_HEADER: Record<string, string> = { Type: 'CHANGE TYPE', Path: 'PATH' };

export class DiffContext extends GoStruct {
  constructor(private readonly c: { Kind: number; Path: string }) {
    super();
  }
  goType(): string {
    return '*container.diffContext';
  }
  get Type(): string {
    return ['C', 'A', 'D'][this.c.Kind] ?? '';
  }
  get Path(): string {
    return this.c.Path;
  }
}

export { goQuote };
