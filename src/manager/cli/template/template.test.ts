// The template engine against Go's own text/template (with docker's functions) on JSON data, and the
// struct-context behaviour docker's formatters rely on (fields, methods with arguments, json).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goOracle, goOracleSkipReason } from '../go-oracle';
import { Template } from './exec';
import { GoStruct, goJson } from './values';

// JSON numbers decode to float64 in Go, so comparisons use float constants (docker's typed ints
// compare with int constants the same way).
// Objects keep the engine's key order when re-encoded (it is the Go struct order on the wire); Go
// sorts map keys, so the keys here are already sorted.
const data = {
  Name: 'web',
  Id: 'abc123',
  N: 3,
  F: 1.5,
  T: true,
  Empty: '',
  Zero: 0,
  List: ['a', 'b', 'c'],
  Nums: [1, 2, 3],
  Map: { a: '1', b: '2', 'com.x': 'y' },
  Nested: { Config: { Cmd: ['sh', '-c', 'echo <hi> & bye'], Env: null, Labels: {} }, State: { ExitCode: 0, Running: true } },
  Nil: null,
};

const cases: { src: string; strict?: boolean }[] = [
  { src: '{{.Name}}' },
  { src: '{{.Name}} {{.N}} {{.F}} {{.T}} {{.Nil}}' },
  { src: '{{.Missing}}' },
  { src: '{{.Missing}}', strict: true },
  { src: '{{.Nested.Config.Cmd}} {{json .Nested.Config.Cmd}} {{json .Nested}}' },
  { src: '{{.Map}} {{json .Map}} {{index .Map "b"}} {{index .Map "zz"}}' },
  { src: '{{range .List}}[{{.}}]{{end}}' },
  { src: '{{range $i, $e := .List}}{{$i}}={{$e}} {{end}}' },
  { src: '{{range $k, $v := .Map}}{{$k}}:{{$v}};{{end}}' },
  { src: '{{range .Empty}}x{{else}}empty{{end}}' },
  { src: '{{range .Nums}}{{if eq . 2.0}}{{continue}}{{end}}{{.}}{{end}}' },
  { src: '{{range .Nums}}{{if gt . 1.0}}{{break}}{{end}}{{.}}{{end}}' },
  { src: '{{if .T}}yes{{else}}no{{end}} {{if .Empty}}a{{else if .Zero}}b{{else}}c{{end}}' },
  { src: '{{with .Nested.State}}{{.Running}} {{.ExitCode}}{{end}}{{with .Empty}}x{{else}}none{{end}}' },
  { src: '{{- .Name -}}  \n  {{- .Id}}' },
  { src: '{{/* comment */}}a{{- /* c2 */ -}} b' },
  { src: '{{join (split "x,y" ",") "+"}} {{split "a:b:c" ":"}} {{upper .Name}} {{lower "ABC"}} {{title "hello big world"}}' },
  { src: '{{pad .Name 2 3}}| {{pad .Empty 1 1}}| {{truncate .Id 3}} {{truncate .Id 30}}' },
  { src: '{{printf "%s-%d-%5.2f|%-6s|%q|%v|%x" .Name 42 3.14159 "ab" "q\\"s" .List 255}}' },
  { src: '{{print "a" 1 2 "b" 3}} {{println "x" 1}}' },
  { src: '{{len .List}} {{len .Map}} {{len .Name}} {{index .List 1}} {{slice .List 1 2}}' },
  { src: '{{and .T .Name}} {{and .Empty .Name}} {{or .Empty "dflt"}} {{not .T}}' },
  { src: '{{eq .N 3.0}} {{eq .Name "x" "web"}} {{ne .N 4.0}} {{lt .N 4.0}} {{le .N 3.0}} {{ge .N 3.0}} {{gt 1.5 1.0}}' },
  { src: '{{$x := .Name}}{{$x}}{{$x = "y"}}{{if true}}{{$x = "z"}}{{end}}{{$x}}' },
  { src: '{{.Name | printf "%s!"}} {{"x" | upper}} {{.List | len}}' },
  { src: '{{(index .Nested.Config.Cmd 0)}} {{(.Nested.State).Running}}' },
  { src: '{{index .Nested "Config"}}' },
  { src: '{{json .Nil}} {{json .T}} {{json .F}} {{json "a\\u003cb"}}' },
  { src: '{{.Name.Foo}}' },
  { src: '{{index .List 9}}' },
  { src: '{{.Name' },
  { src: '{{if}}{{end}}' },
  { src: '{{nofunc .Name}}' },
  { src: 'tab\there{{"\\t"}}x' },
];

test('templates render exactly as Go text/template with docker functions', { skip: goOracleSkipReason() }, () => {
  const want = goOracle({ templates: cases.map((c) => ({ src: c.src, data, strict: !!c.strict })) }).templates!;
  cases.forEach((c, i) => {
    const w = want[i]!;
    let got = '';
    let err = '';
    try {
      got = new Template(c.src).execute(data, { missingKeyError: !!c.strict });
    } catch (e) {
      err = (e as Error).message;
      got = (e as { partial?: string }).partial ?? '';
    }
    assert.equal(got, w.out, `output of ${c.src}`);
    assert.equal(err !== '', w.err !== '', `error presence of ${c.src}: ours ${JSON.stringify(err)}, Go ${JSON.stringify(w.err)}`);
  });
});

class Ctx extends GoStruct {
  goType(): string {
    return '*formatter.ContainerContext';
  }
  get ID(): string {
    return 'abc';
  }
  get Names(): string {
    return 'a<b>&c';
  }
  Label(k: string): string {
    return k === 'x' ? 'yes' : '';
  }
}

test('struct contexts: getters, methods with arguments, unknown fields fail, json escapes HTML', () => {
  const c = new Ctx();
  assert.equal(new Template('{{.ID}} {{.Label "x"}}|{{.Label "y"}}').execute(c), 'abc yes|');
  assert.throws(() => new Template('{{.Nope}}').execute(c), /executing "" at <\.Nope>: can't evaluate field Nope in type \*formatter\.ContainerContext/);
  // docker's contexts marshal through json.Marshal (HTML-escaped), maps through the json function (not).
  assert.equal(goJson(c), '{"ID":"abc","Names":"a\\u003cb\\u003e\\u0026c"}');
  assert.equal(new Template('{{json .}}').execute({ a: '<x>' }), '{"a":"<x>"}');
});
