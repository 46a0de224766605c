import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compactJson, documentSpan, elementsAt, jsonDepth, memberAt, jsonTextAt } from '../../../src/protocol/json-text.js';

describe('jsonTextAt', () => {
  it('returns a nested value exactly as written, integers past 2^53 included', () => {
    const line = '{"id":3,"publish":{"channel":"c","data":{"order":12345678901234567890,"x":[1,2.50,true,null]}}}';
    assert.equal(jsonTextAt(line, ['publish', 'data']), '{"order":12345678901234567890,"x":[1,2.50,true,null]}');
    assert.equal(jsonTextAt(line, ['publish', 'data', 'order']), '12345678901234567890');
    assert.equal(jsonTextAt(line, ['publish', 'data', 'x', 1]), '2.50');
  });

  it('skips strings holding quotes, braces and escapes when it walks past them', () => {
    const line = '{"a":"}{\\"[","b":{"c":"\\\\"},"data":"v\\"w"}';
    assert.equal(jsonTextAt(line, ['data']), '"v\\"w"');
    assert.equal(jsonTextAt(line, ['b', 'c']), '"\\\\"');
  });

  it('takes the last of duplicate keys, as JSON.parse does', () => {
    assert.equal(jsonTextAt('{"data":1,"data":2}', ['data']), '2');
  });

  it('matches keys written with escapes', () => {
    assert.equal(jsonTextAt('{"d\\u0061ta":7}', ['data']), '7');
  });

  it('keeps whitespace inside the value and tolerates it around', () => {
    assert.equal(jsonTextAt('{ "data" :  { "a" : 1 } , "z":0 }', ['data']), '{ "a" : 1 }');
  });

  it('returns undefined for a path that does not exist', () => {
    assert.equal(jsonTextAt('{"a":{"b":1}}', ['a', 'c']), undefined);
    assert.equal(jsonTextAt('{"a":[1]}', ['a', 3]), undefined);
    assert.equal(jsonTextAt('{"a":1}', ['a', 'b']), undefined);
  });

  it('reads array elements by index, e.g. a batch command', () => {
    const body = '{"commands":[{"method":"publish","params":{"data":1}},{"method":"publish","params":{"data":99999999999999999999}}]}';
    assert.equal(jsonTextAt(body, ['commands', 1, 'params', 'data']), '99999999999999999999');
  });
});

describe('compactJson', () => {
  it('removes whitespace outside strings and keeps strings untouched', () => {
    assert.equal(compactJson('{\n  "a" : "x  y",\r\n\t"b": [ 1, 2 ]\n}'), '{"a":"x  y","b":[1,2]}');
  });

  it('returns the text itself when it has no whitespace', () => {
    const text = '{"a":1}';
    assert.equal(compactJson(text), text);
  });

  it('keeps escaped quotes inside strings', () => {
    assert.equal(compactJson('[ "a\\" b" , 1 ]'), '["a\\" b",1]');
  });
});

describe('memberAt and elementsAt', () => {
  const text = ' {"commands":[ {"params":{"data":1.50}} ,{"params":{"data":"x,]"}},[],7 ],"z":{}} ';
  const slice = (span: { start: number; end: number } | undefined): string | undefined => span && text.slice(span.start, span.end);

  it('finds a member of the document and the spans of every element of an array in one pass', () => {
    const commands = memberAt(text, documentSpan(text), 'commands');
    assert.equal(slice(commands), '[ {"params":{"data":1.50}} ,{"params":{"data":"x,]"}},[],7 ]');
    const elements = elementsAt(text, commands!)!;
    assert.deepEqual(elements.map(slice), ['{"params":{"data":1.50}}', '{"params":{"data":"x,]"}}', '[]', '7']);
    assert.equal(slice(memberAt(text, memberAt(text, elements[1]!, 'params')!, 'data')), '"x,]"');
  });

  it('answers undefined for a member of a non-object and the elements of a non-array', () => {
    assert.equal(memberAt(text, { start: text.indexOf('7'), end: text.indexOf('7') + 1 }, 'a'), undefined);
    assert.equal(elementsAt(text, memberAt(text, documentSpan(text), 'z')!), undefined);
    assert.deepEqual(elementsAt('[]', documentSpan('[]')), []);
  });
});

describe('jsonDepth', () => {
  it('counts the deepest nesting of arrays and objects, not brackets inside strings', () => {
    assert.equal(jsonDepth('42'), 0);
    assert.equal(jsonDepth('"[[[{{{"'), 0);
    assert.equal(jsonDepth('{"a":[1,{"b":[]}],"c":"]]]]"}'), 4);
    assert.equal(jsonDepth('[[],[[]],[]]'), 3);
  });

  it('measures text that is not JSON without throwing, so it can run before parsing', () => {
    assert.equal(jsonDepth('['.repeat(100_000)), 100_000);
    assert.equal(jsonDepth('{"a":"unterminated'), 1);
  });
});
