// ARG scoping of the classic builder (builder/dockerfile/buildargs.go): meta ARGs before the first
// FROM, per-stage declarations, --build-arg overrides, the predefined proxy ARGs that stay out of
// history and cache keys unless declared, and the "not consumed" warning. Pure state; no I/O.

/** Predefined ARGs: usable without a declaration, kept out of history unless the Dockerfile declares them. */
export const BUILTIN_ARGS: ReadonlySet<string> = new Set([
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'FTP_PROXY',
  'ftp_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
]);

/** --build-arg values; null is `--build-arg X` where X was not in the client's environment. */
export type BuildArgValues = Record<string, string | null>;

export class BuildArgs {
  /** ARGs declared in the current stage (value undefined: declared without a default). */
  private allowed = new Map<string, string | undefined>();
  /** ARGs declared before the first FROM. */
  private readonly meta: Map<string, string | undefined>;
  /** Every ARG the Dockerfile declared (for the unused warning). */
  private readonly referenced: Set<string>;

  constructor(
    private readonly options: BuildArgValues = {},
    meta?: Map<string, string | undefined>,
    referenced?: Set<string>,
  ) {
    this.meta = meta ?? new Map();
    this.referenced = referenced ?? new Set();
  }

  /** A copy for a new stage: same meta ARGs and references, no stage declarations. */
  forStage(): BuildArgs {
    return new BuildArgs(this.options, new Map(this.meta), new Set(this.referenced));
  }

  clone(): BuildArgs {
    const c = new BuildArgs(this.options, new Map(this.meta), new Set(this.referenced));
    c.allowed = new Map(this.allowed);
    return c;
  }

  mergeReferenced(other: BuildArgs): void {
    for (const k of other.referenced) this.referenced.add(k);
  }

  addArg(key: string, value: string | undefined): void {
    this.allowed.set(key, value);
    this.referenced.add(key);
  }

  addMetaArg(key: string, value: string | undefined): void {
    this.meta.set(key, value);
  }

  /** Marks key as declared somewhere (a stage that is skipped still consumes its ARGs). */
  reference(key: string): void {
    this.referenced.add(key);
  }

  /** True for ARGs that belong in history/cache keys: declared ones, or any non-proxy. */
  isReferencedOrNotBuiltin(key: string): boolean {
    return this.allowed.has(key) || !BUILTIN_ARGS.has(key);
  }

  private lookup(key: string, mapping: Map<string, string | undefined>): string | undefined {
    const o = this.options[key];
    if (o !== undefined && o !== null) return o;
    const def = mapping.get(key);
    if (def === undefined) {
      const m = this.meta.get(key);
      return m;
    }
    return def;
  }

  private all(mapping: Map<string, string | undefined>): Map<string, string> {
    const out = new Map<string, string>();
    for (const k of new Set([...mapping.keys(), ...BUILTIN_ARGS])) {
      const v = this.lookup(k, mapping);
      if (v !== undefined) out.set(k, v);
    }
    return out;
  }

  /** The stage's ARGs with values (declared with a default, a meta default, or overridden), plus given proxies. */
  allAllowed(): Map<string, string> {
    return this.all(this.allowed);
  }

  /** Meta ARGs with values: what FROM lines can expand. */
  allMeta(): Map<string, string> {
    return this.all(this.meta);
  }

  /** "K=V" for every allowed ARG that the env list does not define (ENV beats ARG). */
  filterAllowed(env: readonly string[]): string[] {
    const defined = new Set(env.map((e) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e)));
    const out: string[] = [];
    for (const [k, v] of this.allAllowed()) if (!defined.has(k)) out.push(`${k}=${v}`);
    return out;
  }

  /** dockerd's warning line for --build-arg names no ARG declared, or undefined. */
  unusedWarning(): string | undefined {
    const left = Object.keys(this.options)
      .filter((k) => !BUILTIN_ARGS.has(k) && !this.referenced.has(k))
      .sort();
    return left.length ? `[Warning] One or more build-args [${left.join(' ')}] were not consumed\n` : undefined;
  }
}
