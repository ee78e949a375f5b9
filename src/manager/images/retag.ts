// Naming an image with a name another image had (tag, pull, import, load, commit -t): dockerd moves
// the name and the image it took the name from stays, untagged (dangling, "<none>"), until rmi or
// `image prune` removes it. The layout store keeps images only through records, so the displaced
// image gets an id record (its config digest), as rmi of an image in use does.
import type { ContentStore } from '../content/index';
import type { ImageRecord, ImageStore } from './image-store';
import { parseManifestOrIndex } from './manifest';

export async function putName(deps: { images: ImageStore; content: ContentStore }, record: ImageRecord): Promise<void> {
  const before = await deps.images.list();
  const old = before.find((r) => r.name === record.name);
  await deps.images.put(record);
  if (!old || old.target.digest === record.target.digest) return;
  if (before.some((r) => r !== old && r.target.digest === old.target.digest)) return;
  let id: string | undefined;
  try {
    id = parseManifestOrIndex(await deps.content.readAll(old.target.digest), old.target.mediaType).manifest?.config.digest;
  } catch {
    return; // the old manifest is gone already: nothing left to keep
  }
  if (id) await deps.images.put({ name: id, target: old.target, ...(old.createdAt ? { createdAt: old.createdAt } : {}) });
}
