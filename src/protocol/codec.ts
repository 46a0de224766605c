/**
 * The codec seam: what a session needs to read a client's commands and write its replies and
 * pushes, in the client's wire format. {@link jsonCodec} is the JSON protocol (text, newline-
 * delimited) and is exactly the functions the session called before there was a choice;
 * {@link protobufCodec} is the Protobuf protocol (binary, varint-delimited). Publication pushes
 * are not here: the hub encodes those once per publication (hub/publication-encodings.ts).
 * Pure: no I/O.
 */
import { decodeFrame } from './decode.js';
import {
  encodeDisconnectPush, encodeErrorReply, encodeReply, encodeSubscribePush, encodeUnsubscribePush, PING,
} from './encode.js';
import {
  decodeProtobufFrame, encodeProtobufDisconnectPush, encodeProtobufErrorReply, encodeProtobufReply,
  encodeProtobufSubscribePush, encodeProtobufUnsubscribePush, PROTOBUF_PING,
} from './protobuf.js';
import type { Incoming, Method, Results, SubscribeResult } from './types.js';

/** One reply or push as written: text for JSON, bytes (length first) for Protobuf. */
export type Encoded = string | Uint8Array;

export interface Codec {
  readonly name: 'json' | 'protobuf';
  /** Whether frames are binary. */
  readonly binary: boolean;
  /** The commands of one frame, in order; throws DisconnectError (3501) on malformed input. */
  decode(frame: string | Uint8Array): Incoming[];
  reply<M extends Method>(id: number, method: M, result: Results[M]): Encoded;
  errorReply(id: number, code: number, message: string, temporary: boolean): Encoded;
  readonly ping: Encoded;
  subscribePush(channel: string, result: SubscribeResult): Encoded;
  unsubscribePush(channel: string, code: number, reason: string): Encoded;
  disconnectPush(code: number, reason: string, reconnect: boolean): Encoded;
}

const textDecoder = new TextDecoder();

export const jsonCodec: Codec = {
  name: 'json',
  binary: false,
  decode: (frame) => decodeFrame(typeof frame === 'string' ? frame : textDecoder.decode(frame)),
  reply: encodeReply,
  errorReply: encodeErrorReply,
  ping: PING,
  subscribePush: encodeSubscribePush,
  unsubscribePush: encodeUnsubscribePush,
  disconnectPush: encodeDisconnectPush,
};

export const protobufCodec: Codec = {
  name: 'protobuf',
  binary: true,
  decode: (frame) => decodeProtobufFrame(typeof frame === 'string' ? new TextEncoder().encode(frame) : frame),
  reply: encodeProtobufReply,
  errorReply: encodeProtobufErrorReply,
  ping: PROTOBUF_PING,
  subscribePush: encodeProtobufSubscribePush,
  unsubscribePush: encodeProtobufUnsubscribePush,
  disconnectPush: encodeProtobufDisconnectPush,
};
