import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadChart, renderFiles } from './support/helm-template.js';

/**
 * The template renderer the chart tests stand on (test/support/helm-template.ts): Go's text/template and Sprig as Helm
 * runs them, each case the output helm gives, and a refusal for what it does not implement.
 */
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const VALUES = { n: 2, zero: 0, m: { b: 2, a: 1 }, l: [{ f: 'first' }], empty: [], big: 1000000, nested: { keep: 1, drop: 2 } };

/** Renders one template (with a helper file beside it) over VALUES and `values`. */
function render(template: string, values: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-chart-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: demo\nversion: 1.0.0\nappVersion: "2.0"\n');
  writeFileSync(join(dir, 'values.yaml'), JSON.stringify(VALUES));
  writeFileSync(join(dir, 'templates', '_helpers.tpl'), '{{- define "pair" -}}\n{{ .a }}-{{ $.a }}\n{{- end }}');
  writeFileSync(join(dir, 'templates', 'x.yaml'), template);
  return renderFiles(loadChart(dir), { name: 'rel', namespace: 'ns', values }).get('x.yaml')!;
}

test.each([
  ['trim markers eat the whitespace on their side, newlines included', 'a  {{- "1" -}}  \n b', 'a1b'],
  ['if, else if, else', '{{ if eq .Values.n 1 }}one{{ else if eq .Values.n 2 }}two{{ else }}many{{ end }}', 'two'],
  ['a map ranges in key order, with its key and value', '{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}', 'a=1;b=2;'],
  ['range and with fall to else on empty', '{{ range .Values.empty }}x{{ else }}none{{ end }} {{ with .Values.zero }}x{{ else }}zero{{ end }}', 'none zero'],
  ['= assigns the variable of the enclosing scope', '{{ $x := "out" }}{{ if true }}{{ $x = "in" }}{{ end }}{{ $x }}', 'in'],
  ['a missing key prints nothing', '[{{ .Values.nothing }}]', '[]'],
  ['default takes the fallback for an empty value, 0 included', '{{ default "d" .Values.zero }} {{ .Values.n | default 5 }}', 'd 2'],
  ['toYaml sorts keys; nindent indents every line', 'x:{{ toYaml .Values.m | nindent 2 }}', 'x:\n  a: 1\n  b: 2'],
  ['include renders a define with its data as . and $', '{{ include "pair" (dict "a" "v") }}', 'v-v'],
  ['a parenthesized pipeline takes fields', '{{ (index .Values.l 0).f }}', 'first'],
  ['quote, printf, trunc, trimSuffix, ternary', '{{ 80 | quote }} {{ printf "%s:%v" "p" 4 }} {{ "abc-" | trunc 4 | trimSuffix "-" }} {{ ternary "y" "n" true }}', '"80" p:4 abc y'],
  ['the chart, the release', '{{ .Chart.Name }} {{ .Chart.AppVersion }} {{ .Release.Name }} {{ .Release.Namespace }} {{ .Release.Service }}', 'demo 2.0 rel ns Helm'],
])('%s', (_what, template, output) => {
  expect(render(template)).toBe(output);
});

test('values given merge into the defaults key by key; null removes a key', () => {
  expect(render('{{ toYaml .Values.nested }}', { nested: { drop: null, add: 3 } })).toBe('add: 3\nkeep: 1');
});

test('what Helm refuses, or the renderer does not implement, fails the render', () => {
  expect(() => render('{{ .Values.missing.x }}')).toThrow(/nil pointer evaluating interface \{\}\.x/);
  expect(() => render('{{ required "give it" .Values.nothing }}')).toThrow(/give it/);
  expect(() => render('{{ upper "a" }}')).toThrow(/function "upper" is not supported/);
  expect(() => render('{{ .Values.big }}')).toThrow(/prints as 1e\+06 in Helm/);
  expect(() => render('{{ .Values.m }}')).toThrow(/needs toYaml/);
  expect(() => render('{{ if true }}open')).toThrow(/never closed/);
  expect(() => render('{{ "a"')).toThrow(/never closed/);
});
