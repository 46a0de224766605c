/**
 * The code tables: stable names and numbers, one sentence each, and the rules the client applies
 * to them (reconnect by range for disconnects, retry for temporary reply errors, resubscribe
 * from 2500 for unsubscribe pushes).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DisconnectCode, DISCONNECTS, ErrorCode, ERRORS, reconnects, UnsubscribeCode, UNSUBSCRIBES,
} from '../../../src/protocol/codes.js';

describe('ErrorCode', () => {
  it('keeps the Centrifugo numbers under stable names', () => {
    assert.deepEqual({ ...ErrorCode }, {
      Internal: 100, Unauthorized: 101, UnknownChannel: 102, PermissionDenied: 103, MethodNotFound: 104,
      AlreadySubscribed: 105, LimitExceeded: 106, BadRequest: 107, NotAvailable: 108, TokenExpired: 109,
      Expired: 110, TooManyRequests: 111, UnrecoverablePosition: 112,
    });
  });

  it('has a non-empty default message for every code and no entry for any other code', () => {
    assert.deepEqual(Object.keys(ERRORS).map(Number).sort(), Object.values(ErrorCode).sort());
    for (const code of Object.values(ErrorCode)) assert.match(ERRORS[code].message, /^[a-z][a-z ]+$/, `message of ${code}`);
  });

  it('marks exactly 100 internal and 111 too many requests as temporary, so the client retries them', () => {
    const temporary = Object.values(ErrorCode).filter((code) => ERRORS[code].temporary);
    assert.deepEqual(temporary, [100, 111]);
  });

  it('uses the messages the centrifuge SDKs show for each code', () => {
    assert.deepEqual(Object.fromEntries(Object.values(ErrorCode).map((c) => [c, ERRORS[c].message])), {
      100: 'internal server error', 101: 'unauthorized', 102: 'unknown channel', 103: 'permission denied',
      104: 'method not found', 105: 'already subscribed', 106: 'limit exceeded', 107: 'bad request',
      108: 'not available', 109: 'token expired', 110: 'expired', 111: 'too many requests', 112: 'unrecoverable position',
    });
  });
});

describe('DisconnectCode', () => {
  it('keeps the Centrifugo numbers under stable names', () => {
    assert.deepEqual({ ...DisconnectCode }, {
      ConnectionClosed: 3000, Shutdown: 3001, ServerError: 3004, Expired: 3005, SubExpired: 3006, Slow: 3008,
      WriteError: 3009, InsufficientState: 3010, ForceReconnect: 3011, NoPong: 3012, TooManyRequests: 3013,
      StateInvalidated: 3014, InvalidToken: 3500, BadRequest: 3501, Stale: 3502, ForceNoReconnect: 3503,
      ConnectionLimit: 3504, ChannelLimit: 3505, InappropriateProtocol: 3506, PermissionDenied: 3507,
      NotAvailable: 3508, TooManyErrors: 3509,
    });
  });

  it('has a non-empty reason of at most 123 bytes for every code and no entry for any other code', () => {
    assert.deepEqual(Object.keys(DISCONNECTS).map(Number).sort(), Object.values(DisconnectCode).sort());
    for (const code of Object.values(DisconnectCode)) {
      const reason = DISCONNECTS[code];
      assert.ok(reason.length > 0 && Buffer.byteLength(reason) <= 123, `reason of ${code}`);
      // A JSON reason would be read by the SDK as legacy {reason, reconnect} advice.
      assert.throws(() => JSON.parse(reason), SyntaxError, `reason of ${code} must not be JSON`);
    }
  });

  it('reconnects for every code from 3000 to 3499 and for none from 3500', () => {
    for (const [name, code] of Object.entries(DisconnectCode)) {
      assert.equal(reconnects(code), code < 3500, `${name} (${code})`);
    }
  });

  it('lists the reconnecting codes the client expects to come back after', () => {
    const reconnecting = Object.values(DisconnectCode).filter(reconnects);
    assert.deepEqual(reconnecting, [3000, 3001, 3004, 3005, 3006, 3008, 3009, 3010, 3011, 3012, 3013, 3014]);
  });
});

describe('reconnects()', () => {
  it('follows the range rule at every boundary, application codes included', () => {
    const expected: Array<[number, boolean]> = [
      [3000, true], [3499, true], [3500, false], [3999, false],
      [4000, true], [4499, true], [4500, false], [4999, false],
    ];
    for (const [code, rule] of expected) assert.equal(reconnects(code), rule, String(code));
  });

  it('is false outside the protocol ranges when the code is not a disconnect code', () => {
    for (const code of [0, 2999, 5000]) assert.equal(reconnects(code), false, String(code));
  });
});

describe('UnsubscribeCode', () => {
  it('keeps stable numbers under stable names', () => {
    assert.deepEqual({ ...UnsubscribeCode }, { Server: 2000, InsufficientState: 2500, Expired: 2501 });
  });

  it('has a reason for every code and no entry for any other code', () => {
    assert.deepEqual(Object.keys(UNSUBSCRIBES).map(Number).sort(), Object.values(UnsubscribeCode).sort());
    for (const code of Object.values(UnsubscribeCode)) assert.ok(UNSUBSCRIBES[code].length > 0);
  });

  it('makes the client resubscribe (code >= 2500) for insufficient state and expiry, and not for a server unsubscribe', () => {
    assert.ok(UnsubscribeCode.Server < 2500);
    assert.ok(UnsubscribeCode.InsufficientState >= 2500);
    assert.ok(UnsubscribeCode.Expired >= 2500);
  });
});
