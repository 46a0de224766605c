/**
 * Channel names: checked for emptiness, length in UTF-8 bytes and the documented charset
 * (letters and digits of any script, and `_ - : . @ = + , ; ! ~ # $ /`), each failure a reply
 * 107 bad request; and the namespace a channel belongs to.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHANNEL_CHARSET_DESCRIPTION, checkChannelName, namespaceOf } from '../../../src/protocol/channel.js';
import { ErrorCode } from '../../../src/protocol/codes.js';
import { ReplyError } from '../../../src/protocol/errors.js';

const MAX = 255;
const CHARSET_MESSAGE = 'channel name may only contain letters, digits and _ - : . @ = + , ; ! ~ # $ /';

/** Asserts that `channel` is refused with reply error 107 and exactly `message`. */
function expectRefused(channel: string, message: string, maxLength = MAX): void {
  let caught: unknown;
  try {
    checkChannelName(channel, maxLength);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ReplyError, `expected ReplyError for ${JSON.stringify(channel)}`);
  assert.deepEqual({ code: caught.code, message: caught.message }, { code: ErrorCode.BadRequest, message });
}

function expectAccepted(channel: string, maxLength = MAX): void {
  assert.doesNotThrow(() => checkChannelName(channel, maxLength), `${JSON.stringify(channel)} should be accepted`);
}

describe('checkChannelName', () => {
  it('refuses an empty name with 107', () => {
    expectRefused('', 'channel name is empty');
  });

  it('accepts a name of exactly the maximum length', () => {
    expectAccepted('a'.repeat(10), 10);
  });

  it('refuses a name one byte past the maximum length', () => {
    expectRefused('a'.repeat(11), 'channel name is longer than 10 bytes', 10);
  });

  it('counts UTF-8 bytes, not characters, when the name has multi-byte letters', () => {
    expectAccepted('\u00f1'.repeat(5), 10); // 5 characters, 10 bytes
    expectRefused('\u00f1'.repeat(6), 'channel name is longer than 10 bytes', 10); // 6 characters, 12 bytes
    expectRefused('\u6f22\u5b57\u6f22\u5b57', 'channel name is longer than 10 bytes', 10); // 4 characters, 12 bytes
  });

  it('checks the length before the characters', () => {
    expectRefused('a b'.repeat(10), 'channel name is longer than 10 bytes', 10);
  });

  it('accepts the names the demos and docs use', () => {
    for (const name of ['chat:room-1', 'user#42', '\u00f1and\u00fa', 'chat', 'scores:match_7', 'game:1', 'a.b@c=d+e,f;g!h~i#j$k/l']) {
      expectAccepted(name);
    }
  });

  it('accepts letters and digits of other scripts', () => {
    for (const name of ['\u6f22\u5b57', '\u03a9mega', '\u0645\u0631\u062d\u0628\u0627', '\u0661\u0662\u0663', '\u0447\u0430\u0442:1', '\u00fcber-\u00e7a']) {
      expectAccepted(name);
    }
  });

  it('accepts letters written with combining marks that have no composed form, as in Hindi', () => {
    expectAccepted('\u091a\u0948\u091f'); // Hindi "chat": the vowel sign U+0948 is a combining mark
    expectAccepted('caf\u00e9'); // "café" in NFC
  });

  it('refuses a name not in NFC, naming its NFC spelling, so "chat:é" is one channel however it was typed', () => {
    expectRefused('chat:cafe\u0301', 'channel name must be in Unicode normalization form C (NFC); as NFC it is "chat:caf\u00e9"');
    expectRefused('\u212b', 'channel name must be in Unicode normalization form C (NFC); as NFC it is "\u00c5"'); // the Angstrom sign
  });

  it('refuses spaces, quotes, backslashes, line breaks and control characters with the documented charset', () => {
    for (const name of ['a b', 'a"b', "a'b", 'a\\b', 'a\nb', 'a\rb', 'a\tb', 'a\u0000b', 'a\u007fb', '\u00a0', 'a\u200bb']) {
      expectRefused(name, CHARSET_MESSAGE);
    }
  });

  it('refuses emoji and symbols, which are not letters or digits', () => {
    for (const name of ['chat:\u{1F600}', '\u2603', '\u20ac5', 'a\u00a9']) expectRefused(name, CHARSET_MESSAGE);
  });

  it('accepts exactly the listed punctuation among printable ASCII characters', () => {
    const listed = new Set('_-:.@=+,;!~#$/');
    for (let c = 0x21; c < 0x7f; c++) {
      const ch = String.fromCharCode(c);
      const allowed = /[A-Za-z0-9]/.test(ch) || listed.has(ch);
      if (allowed) expectAccepted(`a${ch}b`);
      else expectRefused(`a${ch}b`, CHARSET_MESSAGE);
    }
  });

  it('describes the charset with the same punctuation it accepts', () => {
    assert.equal(CHANNEL_CHARSET_DESCRIPTION, 'letters, digits and _ - : . @ = + , ; ! ~ # $ /');
  });
});

describe('namespaceOf', () => {
  it('returns the part before the first colon', () => {
    assert.equal(namespaceOf('chat:room-1'), 'chat');
    assert.equal(namespaceOf('a:b:c'), 'a');
    assert.equal(namespaceOf('chat:'), 'chat');
  });

  it('returns the default namespace when the name has no colon or starts with one', () => {
    assert.equal(namespaceOf('user#42'), '');
    assert.equal(namespaceOf(':x'), '');
    assert.equal(namespaceOf(''), '');
  });
});
