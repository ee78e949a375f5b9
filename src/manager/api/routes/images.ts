// /images/*, /auth and /distribution routes over src/manager/images: pull and push as Docker's
// JSON-message streams (errors inside the stream, status 200), list/inspect/history/tag/remove,
// save/load tarballs, import, prune. Registry credentials come per request (X-Registry-Auth).
import type { IncomingMessage } from 'node:http';
import { RuntimeError, messageOf } from '../../../errors/index';
import type { ContentStore } from '../../content/index';
import type { EventBus } from '../../events';
import { loadImages, saveImages } from '../../images/archive';
import type { ImageStore } from '../../images/image-store';
import { importImage } from '../../images/import';
import { importSource } from '../../images/import-source';
import { imageHistory, imageSize, inspectImage, isIdRecord, repoDigests, repoTags } from '../../images/inspect';
import { parsePlatform } from '../../images/manifest';
import { progressLine, shortId } from '../../images/progress';
import { pullImage } from '../../images/pull';
import { pushImage } from '../../images/push';
import { familiarString, formatReference, parseNormalized, parseReference } from '../../images/reference';
import { gc, removeImage, tagImage } from '../../images/remove';
import { listImages, resolveImage, type LocalImage } from '../../images/resolve';
import { RegistryClient, type RegistryOptions } from '../../images/registry/client';
import type { Leases } from '../../leases';
import { JsonMessageStream, qbool, qfilters, readJson, sendEmpty, sendJson, startStream, type Router } from '../http';

export type ImageBackend = {
  content: ContentStore;
  images: ImageStore;
  leases: Leases;
  events: EventBus;
  registry: Omit<RegistryOptions, 'credentials'>;
  /** Container ids using image id (rmi conflicts, prune). */
  imageUsers(id: string): string[];
  /** Removes snapshots no image needs (after rmi/prune). */
  gcSnapshots(): Promise<void>;
};

type Auth = { username?: string; password?: string; serveraddress?: string; identitytoken?: string };

/** X-Registry-Auth / X-Registry-Config: base64 or base64url JSON, padded or not. */
export function decodeAuthHeader(v: string | string[] | undefined): Auth | Record<string, Auth> | undefined {
  if (!v || Array.isArray(v)) return undefined;
  try {
    const j = JSON.parse(Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString()) as Auth;
    return j && typeof j === 'object' ? j : undefined;
  } catch {
    return undefined;
  }
}

function clientFor(b: ImageBackend, req: IncomingMessage): RegistryClient {
  const a = decodeAuthHeader(req.headers['x-registry-auth']) as Auth | undefined;
  const creds = a?.username ? { username: a.username, password: a.password ?? '' } : undefined;
  return new RegistryClient({ ...b.registry, credentials: async () => creds });
}

/** docker images rows (one per image; RepoTags carry every name). */
function imageSummary(img: LocalImage, users: number): Record<string, unknown> {
  const created = img.config.created ? Math.floor(Date.parse(img.config.created) / 1000) : 0;
  const tags = repoTags(img);
  const size = imageSize(img);
  return {
    Containers: users,
    Created: created,
    Id: img.id,
    Labels: img.config.config?.Labels ?? null,
    ParentId: '',
    RepoDigests: repoDigests(img),
    RepoTags: tags.length ? tags : null,
    SharedSize: -1,
    Size: size,
    VirtualSize: size,
  };
}

function refMatches(img: LocalImage, pattern: string): boolean {
  const names = repoTags(img);
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '.')}$`);
  return names.some((n) => re.test(n) || re.test(n.replace(/:[^:/]+$/, '')));
}

export function imageRoutes(r: Router, b: ImageBackend): void {
  const deps = { content: b.content, images: b.images, leases: b.leases };

  r.add('POST', /^\/auth$/, async (ctx) => {
    const a = await readJson<Auth>(ctx, {});
    const host = (a.serveraddress || 'docker.io').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const client = new RegistryClient({ ...b.registry, credentials: async () => ({ username: a.username ?? '', password: a.password ?? '' }) });
    try {
      await client.login(host === 'index.docker.io' ? 'docker.io' : host);
    } catch (e) {
      throw new RuntimeError('PermissionDenied', `login attempt to https://${host}/v2/ failed with status: ${messageOf(e)}`);
    } finally {
      await client.close();
    }
    sendJson(ctx, 200, { Status: 'Login Succeeded', IdentityToken: '' });
  });

  r.add('POST', /^\/images\/create$/, async (ctx) => {
    const q = ctx.query;
    const fromImage = q.get('fromImage');
    const fromSrc = q.get('fromSrc');
    const out = new JsonMessageStream(startStream(ctx));
    if (fromSrc !== null && fromSrc !== '') {
      try {
        const src = importSource(fromSrc, ctx.req, (status, current, total) => out.write(current === undefined ? { status } : { status, progressDetail: { current, total }, id: '' }));
        const res = await importImage(b, src, { repo: q.get('repo') || undefined, tag: q.get('tag') || undefined, changes: q.getAll('changes'), message: q.get('message') || undefined, source: fromSrc });
        out.write({ status: res.id });
        b.events.publish('image', 'import', res.id, res.name ? { name: familiarString(parseReference(res.name)) } : {});
      } catch (e) {
        out.error(e);
      }
      out.end();
      return;
    }
    if (!fromImage) {
      out.error(new RuntimeError('InvalidArgument', 'fromImage or fromSrc is required'));
      out.end();
      return;
    }
    const client = clientFor(b, ctx.req);
    try {
      const tag = q.get('tag') ?? '';
      const raw = parseNormalized(fromImage);
      if (tag) {
        if (tag.startsWith('sha256:')) raw.digest = tag;
        else raw.tag = tag;
      }
      // No tag and none in fromImage is `docker pull --all-tags`: every tag of the repository in turn,
      // one status line for the repository at the end (dockerd's puller.pull).
      const allTags = !tag && raw.tag === undefined && raw.digest === undefined;
      const refs = allTags ? (await client.listTags(raw.domain, raw.path)).map((t) => parseReference(formatReference({ ...raw, tag: t }))) : [parseReference(formatReference(raw))];
      const platform = q.get('platform');
      let upToDate = true;
      for (const ref of refs) {
        out.write({ status: `Pulling from ${ref.path}`, id: ref.digest ?? ref.tag });
        const res = await pullImage({ ...deps, client }, ref, { ...(platform ? { platform: parsePlatform(platform) } : {}), progress: (e) => out.write(progressLine(e)) });
        if (res.record.repoDigest) out.write({ status: `Digest: ${res.record.repoDigest}` });
        upToDate &&= res.upToDate;
      }
      const named = allTags ? familiarString(raw) : familiarString(refs[0]!);
      out.write({ status: `Status: ${upToDate ? 'Image is up to date for' : 'Downloaded newer image for'} ${named}` });
      b.events.publish('image', 'pull', named, { name: named });
    } catch (e) {
      out.error(e);
      await gc(deps).catch(() => undefined);
    } finally {
      await client.close();
    }
    out.end();
  });

  r.add('GET', /^\/images\/json$/, async (ctx) => {
    const f = qfilters(ctx.query);
    const all = await listImages(deps);
    const rows = [];
    for (const img of all) {
      const tags = repoTags(img);
      const dangling = tags.length === 0;
      if (f.get('dangling')?.length) {
        const want = f.get('dangling')!.includes('true');
        if (want !== dangling) continue;
      } else if (dangling && !qbool(ctx.query, 'all') && !img.records.some((r) => isIdRecord(r.name))) continue;
      if (f.get('reference')?.length && !f.get('reference')!.some((p) => refMatches(img, p))) continue;
      if (f.get('label')?.length) {
        const labels = img.config.config?.Labels ?? {};
        if (!f.get('label')!.every((v) => (v.includes('=') ? labels[v.split('=')[0]!] === v.slice(v.indexOf('=') + 1) : v in labels))) continue;
      }
      rows.push(imageSummary(img, b.imageUsers(img.id).length));
    }
    sendJson(ctx, 200, rows);
  });

  r.add('GET', /^\/images\/get$/, async (ctx) => {
    const names = ctx.query.getAll('names');
    for (const n of names) await resolveImage(deps, n);
    const res = startStream(ctx, 'application/x-tar');
    await saveImages(deps, names, res).catch((e) => res.destroy(e as Error));
    for (const n of names) b.events.publish('image', 'save', n, { name: n });
  });

  r.add('POST', /^\/images\/load$/, async (ctx) => {
    // The CLI renders the reply as JSON only for exactly this content type (engine-api.md §3.1).
    const res = startStream(ctx, 'application/json');
    const out = new JsonMessageStream(res);
    try {
      const result = await loadImages(deps, ctx.req);
      for (const n of result.loaded) {
        const fam = familiarString(parseReference(n));
        out.write({ stream: `Loaded image: ${fam}\n` });
        b.events.publish('image', 'load', fam, { name: fam });
      }
      for (const id of result.untaggedIds) out.write({ stream: `Loaded image ID: ${id}\n` });
    } catch (e) {
      out.error(e);
      // What the failed load wrote is no image's: reclaim it now.
      await gc(deps).catch(() => undefined);
    }
    out.end();
  });

  r.add('POST', /^\/images\/prune$/, async (ctx) => {
    const f = qfilters(ctx.query);
    const danglingOnly = !(f.get('dangling') ?? []).includes('false');
    const deleted: Record<string, string>[] = [];
    let reclaimed = 0;
    for (const img of await listImages(deps)) {
      if (b.imageUsers(img.id).length > 0) continue;
      if (danglingOnly && repoTags(img).length > 0) continue;
      for (const rec of img.records) {
        await b.images.delete(rec.name).catch(() => undefined);
        if (!isIdRecord(rec.name)) deleted.push({ Untagged: familiarString(parseReference(rec.name)) });
      }
      deleted.push({ Deleted: img.id });
      reclaimed += imageSize(img);
      b.events.publish('image', 'delete', img.id, { name: img.id });
    }
    await gc(deps);
    await b.gcSnapshots();
    sendJson(ctx, 200, { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed });
  });

  // Image names carry slashes and colons unescaped: match the action suffix greedily.
  r.add('GET', /^\/images\/(.+)\/json$/, async (ctx) => {
    const { image } = await resolveImage(deps, ctx.params[0]!);
    sendJson(ctx, 200, inspectImage(image));
  });

  r.add('GET', /^\/images\/(.+)\/history$/, async (ctx) => {
    const { image } = await resolveImage(deps, ctx.params[0]!);
    const rows = imageHistory(image);
    const tags = repoTags(image);
    sendJson(
      ctx,
      200,
      rows.map((h, i) => ({
        Id: i === 0 ? image.id : h.id || '<missing>',
        Created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0,
        CreatedBy: h.createdBy,
        Tags: i === 0 && tags.length ? tags : null,
        Size: h.size,
        Comment: h.comment,
      })),
    );
  });

  r.add('GET', /^\/images\/(.+)\/get$/, async (ctx) => {
    const n = ctx.params[0]!;
    await resolveImage(deps, n);
    const res = startStream(ctx, 'application/x-tar');
    await saveImages(deps, [n], res).catch((e) => res.destroy(e as Error));
  });

  r.add('POST', /^\/images\/(.+)\/tag$/, async (ctx) => {
    const repo = ctx.query.get('repo');
    if (!repo) throw new RuntimeError('InvalidArgument', 'repository name (repo) is required');
    const tag = ctx.query.get('tag') || 'latest';
    const name = await tagImage(deps, ctx.params[0]!, `${repo}:${tag}`);
    b.events.publish('image', 'tag', name, { name: familiarString(parseReference(name)) });
    sendEmpty(ctx, 201);
  });

  r.add('POST', /^\/images\/(.+)\/push$/, async (ctx) => {
    const name = ctx.params[0]!;
    const tag = ctx.query.get('tag');
    const full = tag ? `${name}:${tag}` : name;
    const out = new JsonMessageStream(startStream(ctx));
    const client = clientFor(b, ctx.req);
    try {
      const ref = parseReference(full);
      await resolveImage(deps, full);
      out.write({ status: `The push refers to repository [${ref.domain}/${ref.path}]` });
      const res = await pushImage({ ...deps, client }, full, { progress: (e) => out.write(progressLine(e)) });
      out.write({ status: `${ref.tag}: digest: ${res.digest} size: ${res.size}` });
      out.write({ progressDetail: {}, aux: { Tag: ref.tag, Digest: res.digest, Size: res.size } });
      b.events.publish('image', 'push', familiarString(ref), { name: familiarString(ref) });
    } catch (e) {
      out.error(e);
    } finally {
      await client.close();
    }
    out.end();
  });

  r.add('DELETE', /^\/images\/(.+)$/, async (ctx) => {
    const input = ctx.params[0]!;
    const force = qbool(ctx.query, 'force');
    const { image, record } = await resolveImage(deps, input);
    const users = b.imageUsers(image.id);
    const lastName = !record || image.records.filter((r) => !isIdRecord(r.name)).length <= 1;
    if (users.length && lastName && !force) {
      const what = record ? `unable to remove repository reference "${input}" (must force)` : `unable to delete ${image.id.slice(7, 19)} (must be forced)`;
      throw new RuntimeError('AlreadyExists', `conflict: ${what} - container ${users[0]!.slice(0, 12)} is using its referenced image ${image.id.slice(7, 19)}`);
    }
    const res = await removeImage(deps, input, { force });
    const out: Record<string, string>[] = res.untagged.map((u) => ({ Untagged: u }));
    if (res.deleted.length && users.length) {
      // In use: the image stays, untagged (dangling), as dockerd keeps it.
      await b.images.put({ name: image.id, target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: image.manifestDigest, size: (await b.content.info(image.manifestDigest)).size } });
    } else {
      for (const d of res.deleted) out.push({ Deleted: d });
      await gc(deps);
      await b.gcSnapshots();
    }
    for (const u of res.untagged) b.events.publish('image', 'untag', image.id, { name: u });
    for (const d of res.deleted) if (!users.length) b.events.publish('image', 'delete', d, { name: d });
    sendJson(ctx, 200, out);
  });

  r.add('GET', /^\/distribution\/(.+)\/json$/, async (ctx) => {
    const ref = parseReference(ctx.params[0]!);
    const client = clientFor(b, ctx.req);
    try {
      const m = await client.getManifest(ref.domain, ref.path, ref.digest ?? ref.tag ?? 'latest');
      sendJson(ctx, 200, { Descriptor: { mediaType: m.mediaType, digest: m.digest, size: m.data.length }, Platforms: [{ architecture: 'amd64', os: 'linux' }] });
    } finally {
      await client.close();
    }
  });
  void shortId;
}
