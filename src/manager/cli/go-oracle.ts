// Test oracle: runs Go's own text/template (with the docker CLI's template functions), text/tabwriter
// and fmt %g over a batch of cases, so unit tests compare this package with the real thing. Used by
// tests only; needs the Go toolchain (skipped without it).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const PROGRAM = `package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"text/template"
)

type tmplCase struct {
	Src  string      \`json:"src"\`
	Data interface{} \`json:"data"\`
	Strict bool      \`json:"strict"\`
}
type twCase struct {
	Text string \`json:"text"\`
	Min  int    \`json:"min"\`
	Pad  int    \`json:"pad"\`
}
type gCase struct {
	V    float64 \`json:"v"\`
	Prec int     \`json:"prec"\`
}
type input struct {
	Templates []tmplCase \`json:"templates"\`
	Tab       []twCase   \`json:"tab"\`
	G         []gCase    \`json:"g"\`
}
type result struct {
	Out string \`json:"out"\`
	Err string \`json:"err"\`
}

var funcs = template.FuncMap{
	"json": func(v interface{}) string {
		buf := &bytes.Buffer{}
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			panic(err)
		}
		return strings.TrimSpace(buf.String())
	},
	"split": strings.Split,
	"join":  strings.Join,
	"title": strings.Title,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"pad": func(s string, pre, suf int) string {
		if s == "" {
			return s
		}
		return strings.Repeat(" ", pre) + s + strings.Repeat(" ", suf)
	},
	"truncate": func(s string, n int) string {
		if len(s) < n {
			return s
		}
		return s[:n]
	},
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	var out struct {
		Templates []result \`json:"templates"\`
		Tab       []string \`json:"tab"\`
		G         []string \`json:"g"\`
	}
	for _, c := range in.Templates {
		t, err := template.New("").Funcs(funcs).Parse(c.Src)
		if err != nil {
			out.Templates = append(out.Templates, result{Err: err.Error()})
			continue
		}
		if c.Strict {
			t = t.Option("missingkey=error")
		}
		var b bytes.Buffer
		err = t.Execute(&b, c.Data)
		r := result{Out: b.String()}
		if err != nil {
			r.Err = err.Error()
		}
		out.Templates = append(out.Templates, r)
	}
	for _, c := range in.Tab {
		var b bytes.Buffer
		w := tabwriter.NewWriter(&b, c.Min, 1, c.Pad, ' ', 0)
		w.Write([]byte(c.Text))
		w.Flush()
		out.Tab = append(out.Tab, b.String())
	}
	for _, c := range in.G {
		out.G = append(out.G, fmt.Sprintf("%.*g", c.Prec, c.V))
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
`;

export type OracleInput = {
  templates?: { src: string; data: unknown; strict?: boolean }[];
  tab?: { text: string; min: number; pad: number }[];
  g?: { v: number; prec: number }[];
};
export type OracleOutput = { templates: { out: string; err: string }[] | null; tab: string[] | null; g: string[] | null };

export function goOracleSkipReason(): string | undefined {
  return spawnSync('go', ['version']).status === 0 ? undefined : 'the Go toolchain is not installed';
}

/** Runs the cases through Go. */
export function goOracle(input: OracleInput): OracleOutput {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'go-oracle-'));
  try {
    fs.writeFileSync(path.join(dir, 'main.go'), PROGRAM);
    fs.writeFileSync(path.join(dir, 'go.mod'), 'module oracle\n\ngo 1.19\n');
    const out = execFileSync('go', ['run', '.'], { cwd: dir, input: JSON.stringify(input), encoding: 'utf8', env: { ...process.env, GOFLAGS: '-mod=mod', GO111MODULE: 'on' } });
    return JSON.parse(out) as OracleOutput;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
