/** Prometheus text exposition (format 0.0.4), parsed strictly, for tests of GET /metrics. */
import assert from 'node:assert/strict';

/** One family of the exposition: its HELP, TYPE and samples. */
export interface Family {
  help?: string;
  type?: string;
  readonly samples: Array<{ readonly name: string; readonly labels: Record<string, string>; readonly value: number }>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Parses a label set `{a="x",b="y\"z"}` strictly; throws on anything else. */
function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    assert.ok(eq > i, `label without '=' in: ${line}`);
    const name = text.slice(i, eq);
    assert.match(name, LABEL_NAME, `bad label name ${JSON.stringify(name)} in: ${line}`);
    assert.equal(text[eq + 1], '"', `label value not quoted in: ${line}`);
    let j = eq + 2;
    let value = '';
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const next = text[++j];
        assert.ok(next === '\\' || next === '"' || next === 'n', `bad escape \\${next} in: ${line}`);
        value += next === 'n' ? '\n' : next;
      } else value += text[j];
    }
    assert.equal(text[j], '"', `unterminated label value in: ${line}`);
    assert.equal(labels[name], undefined, `label ${name} twice in: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (i < text.length) {
      assert.equal(text[i], ',', `expected ',' between labels in: ${line}`);
      i++;
    }
  }
  return labels;
}

/** The family a sample name belongs to (histogram samples end in _bucket, _sum, _count). */
function familyOf(name: string, families: Map<string, Family>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.slice(0, -suffix.length);
    if (name.endsWith(suffix) && families.get(base)?.type === 'histogram') return base;
  }
  return name;
}

/**
 * Parses Prometheus text exposition (format 0.0.4) strictly: every line is blank, `# HELP name
 * text`, `# TYPE name type`, or `name{labels} value`; HELP and TYPE come once per family, before
 * its samples; every sample belongs to a family with both; no series appears twice.
 */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      assert.ok(m, `a comment that is neither HELP nor TYPE: ${line}`);
      const [, kind, name, rest] = m;
      assert.match(name!, NAME, `bad metric name in: ${line}`);
      const family = families.get(name!) ?? { samples: [] };
      families.set(name!, family);
      assert.equal(family.samples.length, 0, `${kind} after samples of ${name}`);
      if (kind === 'HELP') {
        assert.equal(family.help, undefined, `HELP twice for ${name}`);
        assert.notEqual(rest, '', `empty HELP for ${name}`);
        family.help = rest!;
      } else {
        assert.equal(family.type, undefined, `TYPE twice for ${name}`);
        assert.ok(TYPES.has(rest!), `unknown TYPE ${rest} for ${name}`);
        family.type = rest!;
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    assert.ok(m, `not a sample line "name{labels} value": ${line}`);
    const [, name, labelText, valueText] = m;
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : valueText === 'NaN' ? NaN : Number(valueText);
    assert.ok(!Number.isNaN(value) || valueText === 'NaN', `bad value ${valueText} in: ${line}`);
    const labels = labelText === undefined ? {} : parseLabels(labelText, line);
    const family = families.get(familyOf(name!, families));
    assert.ok(family, `a sample with no HELP/TYPE before it: ${line}`);
    assert.ok(family.help !== undefined && family.type !== undefined, `family of ${name} lacks HELP or TYPE`);
    const key = seriesKey(name!, labels);
    assert.ok(!seen.has(key), `series twice: ${key}`);
    seen.add(key);
    family.samples.push({ name: name!, labels, value });
  }
  return families;
}

export function seriesKey(name: string, labels: Record<string, string>): string {
  const parts = Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `${name}{${parts.join(',')}}`;
}
