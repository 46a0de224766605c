/**
 * docs/errors.md and src/protocol/codes.ts cannot drift (STYLE rule 3): every reply error,
 * disconnect and unsubscribe code is in its table with its constant name, the same default
 * sentence and the same retry rule, and the tables list no code the code tables do not have.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  CloseCode, DisconnectCode, DISCONNECTS, ErrorCode, ERRORS, reconnects, UnsubscribeCode, UNSUBSCRIBES,
} from '../../../src/protocol/codes.js';

type Row = Readonly<Record<string, string>>;

/** The rows of the first table after the `## <heading>` line, keyed by header, backticks kept. */
function table(doc: string, heading: string): Row[] {
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`);
  assert.ok(start !== -1, `docs/errors.md has no "## ${heading}" section`);
  let i = start + 1;
  while (i < lines.length && !lines[i]!.startsWith('|')) {
    assert.ok(!lines[i]!.startsWith('## '), `"## ${heading}" has no table`);
    i++;
  }
  const cells = (line: string): string[] => line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
  const header = cells(lines[i]!);
  assert.match(lines[i + 1] ?? '', /^\|(\s*-+\s*\|)+$/, `"## ${heading}": the second line of the table must be its separator`);
  const rows: Row[] = [];
  for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    const values = cells(lines[i]!);
    assert.equal(values.length, header.length, `"## ${heading}": row has ${values.length} cells, header ${header.length}: ${lines[i]}`);
    rows.push(Object.fromEntries(header.map((h, k) => [h, values[k]!])));
  }
  return rows;
}

const unquote = (cell: string): string => cell.replace(/^`(.*)`$/, '$1');
const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

/** Rows by their numeric code column; fails on a duplicate. */
function byCode(rows: Row[], column: string): Map<number, Row> {
  const out = new Map<number, Row>();
  for (const row of rows) {
    const code = Number(row[column]);
    assert.ok(Number.isInteger(code), `not a code: ${row[column]}`);
    assert.ok(!out.has(code), `code ${code} is listed twice`);
    out.set(code, row);
  }
  return out;
}

function nameOf<T extends Record<string, number>>(table: T, code: number): string | undefined {
  return Object.entries(table).find(([, v]) => v === code)?.[0];
}

describe('docs/errors.md', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

  it('opens by telling reply errors from disconnects and stating the reconnect rule by range', () => {
    const intro = doc.slice(0, doc.indexOf('\n## '));
    for (const words of ['reply error', 'disconnect', '3000–3499', '4000–4499', '3500–3999', '4500–4999']) {
      assert.ok(intro.includes(words), `the introduction does not mention "${words}"`);
    }
  });

  describe('reply errors', () => {
    const rows = byCode(table(doc, 'Reply errors'), 'Code');

    it('lists exactly the codes of ErrorCode', () => {
      assert.deepEqual([...rows.keys()].sort(), Object.values(ErrorCode).sort());
    });

    for (const code of Object.values(ErrorCode)) {
      it(`gives ${code} its name, default message and temporary flag from codes.ts`, () => {
        const row = rows.get(code);
        assert.ok(row, `${code} is missing`);
        assert.equal(unquote(row['Name']!), `ErrorCode.${nameOf(ErrorCode, code)}`);
        assert.equal(unquote(row['Message']!), ERRORS[code].message);
        assert.equal(row['Temporary'], yesNo(ERRORS[code].temporary));
        assert.ok((row['When canal sends it'] ?? '').length > 0, 'says when canal sends it');
        assert.ok((row['What the centrifuge client does'] ?? '').length > 0, 'says what the client does');
      });
    }
  });

  describe('disconnect codes', () => {
    const rows = byCode(table(doc, 'Disconnect codes'), 'Code');

    it('lists exactly the codes of DisconnectCode', () => {
      assert.deepEqual([...rows.keys()].sort(), Object.values(DisconnectCode).sort());
    });

    for (const code of Object.values(DisconnectCode)) {
      it(`gives ${code} its name, default reason and reconnect rule from codes.ts`, () => {
        const row = rows.get(code);
        assert.ok(row, `${code} is missing`);
        assert.equal(unquote(row['Name']!), `DisconnectCode.${nameOf(DisconnectCode, code)}`);
        assert.equal(unquote(row['Reason']!), DISCONNECTS[code]);
        assert.equal(row['Reconnect'], yesNo(reconnects(code)));
        assert.ok((row['When canal sends it'] ?? '').length > 0, 'says when canal sends it');
      });
    }
  });

  describe('unsubscribe push codes', () => {
    const rows = byCode(table(doc, 'Unsubscribe push codes'), 'Code');

    it('lists exactly the codes of UnsubscribeCode', () => {
      assert.deepEqual([...rows.keys()].sort(), Object.values(UnsubscribeCode).sort());
    });

    for (const code of Object.values(UnsubscribeCode)) {
      it(`gives ${code} its name, default reason and resubscribe rule from codes.ts`, () => {
        const row = rows.get(code);
        assert.ok(row, `${code} is missing`);
        assert.equal(unquote(row['Name']!), `UnsubscribeCode.${nameOf(UnsubscribeCode, code)}`);
        assert.equal(unquote(row['Reason']!), UNSUBSCRIBES[code]);
        assert.equal(row['Client resubscribes'], yesNo(code >= 2500));
        assert.ok((row['When canal sends it'] ?? '').length > 0, 'says when canal sends it');
      });
    }
  });

  describe('plain WebSocket close codes', () => {
    const rows = byCode(table(doc, 'Plain WebSocket close codes'), 'Code');

    it('lists every CloseCode and the codes ws closes with itself', () => {
      const expected = new Set<number>([...Object.values(CloseCode), 1002, 1007, 1009]);
      for (const code of expected) assert.ok(rows.has(code), `${code} is missing`);
    });

    it('lists only WebSocket close codes, each with when canal sends it', () => {
      for (const [code, row] of rows) {
        assert.ok(code >= 1000 && code < 3000, `${code} is not a WebSocket close code`);
        assert.ok((row['When canal sends it'] ?? '').length > 0, `${code} says when`);
      }
    });
  });

  describe('HTTP statuses at upgrade', () => {
    const rows = byCode(table(doc, 'HTTP statuses at upgrade'), 'Status');

    it('lists 400, 403, 404 and 503, each with when canal sends it', () => {
      for (const status of [400, 403, 404, 503]) {
        assert.ok(rows.has(status), `${status} is missing`);
        assert.ok((rows.get(status)!['When canal sends it'] ?? '').length > 0, `${status} says when`);
      }
    });
  });
});
