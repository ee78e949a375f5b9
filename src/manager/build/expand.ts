// Variable expansion of instructions at dispatch time, with the classic builder's rules (which
// instructions and which of their fields expand; EXPOSE is the one where a word can become several;
// RUN/CMD/ENTRYPOINT/HEALTHCHECK/SHELL text is left to the shell) plus BuildKit's COPY --from,
// --chmod and heredoc bodies. Returns expanded copies; never mutates the parsed Dockerfile.
import type { Instruction } from './instructions';
import { envFromList, ShellLex, type EnvGetter } from './shell-lex';

export type Expander = { word(w: string): string; words(w: string): string[]; raw(w: string): string };

/** An expander over an env list ("K=V", first definition wins) for the Dockerfile's escape token. */
export function makeExpander(escapeToken: string, env: readonly string[]): Expander {
  const lex = new ShellLex(escapeToken);
  const rawLex = new ShellLex('\\', { skipProcessQuotes: true });
  const getter: EnvGetter = envFromList(env);
  return { word: (w) => lex.processWord(w, getter), words: (w) => lex.processWords(w, getter), raw: (w) => rawLex.processWord(w, getter) };
}

export function expandInstruction(c: Instruction, x: Expander): Instruction {
  switch (c.kind) {
    case 'env':
      return { ...c, env: c.env.map((kv) => ({ key: x.word(kv.key), value: x.word(kv.value) })) };
    case 'label':
      return c.noExpand ? c : { ...c, labels: c.labels.map((kv) => ({ key: x.word(kv.key), value: x.word(kv.value) })) };
    case 'copy':
    case 'add':
      return {
        ...c,
        chown: x.word(c.chown),
        chmod: x.word(c.chmod),
        from: x.word(c.from),
        sources: c.sources.map((s) => x.word(s)),
        dest: x.word(c.dest),
        contents: c.contents.map((s) => (s.expand ? { ...s, data: x.raw(s.data) } : s)),
      };
    case 'workdir':
      return { ...c, path: x.word(c.path) };
    case 'user':
      return { ...c, user: x.word(c.user) };
    case 'volume':
      return { ...c, volumes: c.volumes.map((v) => x.word(v)) };
    case 'stopsignal':
      return { ...c, signal: x.word(c.signal) };
    case 'arg':
      return { ...c, args: c.args.map((a) => (a.value === undefined ? { key: x.word(a.key) } : { key: x.word(a.key), value: x.word(a.value) })) };
    case 'expose':
      return { ...c, ports: c.ports.flatMap((p) => x.words(p)) };
    default:
      return c;
  }
}
