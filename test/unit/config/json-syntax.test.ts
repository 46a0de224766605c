import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findJsonSyntaxError } from '../../../src/config/json-syntax.js';
import { seededRandom } from '../../helpers/random.js';

/** `line:column reason` of the first error, or `valid`. */
function located(text: string): string {
  const e = findJsonSyntaxError(text);
  return e ? `${e.line}:${e.column} ${e.reason}` : 'valid';
}

describe('findJsonSyntaxError()', () => {
  it('finds nothing wrong in valid JSON, whatever its shape', () => {
    for (const text of ['{}', '[]', '0', '-1.5e+3', '"a\\u00e9\\n"', 'true', ' null ', '{"a":[1,{"b":false}],"c":"\\""}', '\n{\n  "port": 80\n}\n']) {
      assert.equal(located(text), 'valid', text);
    }
  });

  it('points at the comma of a trailing comma, by line and column', () => {
    assert.equal(located('{\n  "port": 80,\n}'), '2:13 a comma before "}" (JSON allows no trailing comma)');
    assert.equal(located('[1, 2,]'), '1:6 a comma before "]" (JSON allows no trailing comma)');
  });

  it('points just after the value that a missing comma should follow', () => {
    assert.equal(located('{\n  "a": 1\n  "b": 2\n}'), '2:9 a missing "," between two properties');
    assert.equal(located('[1 2]'), '1:3 a missing "," between two items');
  });

  it('says when the text ends inside an object, an array, a string or before any value', () => {
    assert.equal(located('{"home":2,"away":1'), '1:19 the text ends inside an object (a missing "}"?)');
    assert.equal(located('[1'), '1:3 the text ends inside an array (a missing "]"?)');
    assert.equal(located('{"a": "b'), '1:7 a string that is never closed (a missing \'"\'?)');
    assert.equal(located('{"a":'), '1:6 the text ends where a value should be (a missing "}" or "]"?)');
    assert.equal(located(' \n '), '1:1 there is nothing but white space, and JSON needs a value');
  });

  it('names single quotes, bare words, bad escapes, line breaks in strings and text after the value', () => {
    assert.equal(located("{'a': 1}"), '1:2 property names take double quotes, not single ones');
    assert.equal(located("['a']"), '1:2 strings take double quotes, not single ones');
    assert.equal(located('{"a": yes}'), '1:7 expected a value (a string in double quotes, a number, an object, an array, true, false or null), found "y"');
    assert.equal(located('"\\q"'), '1:2 an unknown escape "\\q" (JSON knows \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
    assert.equal(located('"\\u12"'), '1:2 "\\u" must be followed by 4 hexadecimal digits');
    assert.equal(located('"a\nb"'), '1:3 a line break inside a string (write \\n, or close the string)');
    assert.equal(located('{} {}'), '1:4 text after the end of the JSON value');
    assert.equal(located('{"a" 1}'), '1:6 expected ":" after the property name, found "1"');
  });

  it('counts columns in characters, not UTF-16 units', () => {
    assert.equal(located('{"🙂": 1,}'), '1:8 a comma before "}" (JSON allows no trailing comma)');
  });

  it('agrees with JSON.parse on which texts are JSON, for 5000 mutated documents (seed 16)', () => {
    const random = seededRandom(16);
    const base = '{"a": [1, -2.5e3, "x\\"y", true, null], "b": {"c": "\\u00e9"}, "d": []}';
    const pieces = ['{', '}', '[', ']', ',', ':', '"', "'", '\\', ' ', '\n', '0', '-', '.', 'e', 't', 'x', '\u0001'];
    for (let n = 0; n < 5000; n++) {
      let text = base;
      for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
        const at = Math.floor(random() * (text.length + 1));
        const piece = pieces[Math.floor(random() * pieces.length)]!;
        text = random() < 0.5 ? text.slice(0, at) + piece + text.slice(at) : text.slice(0, at) + text.slice(at + 1);
      }
      let parses = true;
      try {
        JSON.parse(text);
      } catch {
        parses = false;
      }
      const found = findJsonSyntaxError(text);
      assert.equal(found === undefined, parses, `${JSON.stringify(text)}: JSON.parse ${parses ? 'accepts' : 'refuses'} it, the scanner says ${JSON.stringify(found)}`);
      if (found) assert.ok(found.offset >= 0 && found.offset <= text.length);
    }
  });
});
