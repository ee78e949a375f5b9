// undici as a bundle of its own (dist/undici-entry.js), loaded by src/manager/images/registry/undici.ts
// on the daemon's first registry or URL access: its 0.7 MB of source is otherwise held in every
// daemon's heap, pulls or not. Nothing else belongs here.
export * from 'undici';
