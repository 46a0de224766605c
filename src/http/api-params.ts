/**
 * Checking the JSON parameters of server API calls against a small per-method schema: required
 * fields, types, and no unknown fields (a typo such as "chanel" is an error that names the
 * field, not a silent default). Pure.
 */

/** The request is malformed: HTTP 400 with error code 107 and this message. */
export class BadParamsError extends Error {}

export type FieldType = 'string' | 'boolean' | 'integer' | 'json' | 'strings' | 'stringMap' | 'position' | 'disconnect' | 'commands';

export interface FieldSpec {
  readonly type: FieldType;
  readonly required?: boolean;
}

export type ParamsSpec = Readonly<Record<string, FieldSpec>>;

const DESCRIBE: Record<FieldType, string> = {
  string: 'a string',
  boolean: 'true or false',
  integer: 'an integer',
  json: 'any JSON value',
  strings: 'a list of strings',
  stringMap: 'an object of string values',
  position: 'an object {"offset": integer, "epoch": string}',
  disconnect: 'an object {"code": integer, "reason": string}',
  commands: 'a list of objects {"method": string, "params": object}',
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fits(type: FieldType, v: unknown): boolean {
  switch (type) {
    case 'string': return typeof v === 'string';
    case 'boolean': return typeof v === 'boolean';
    case 'integer': return typeof v === 'number' && Number.isSafeInteger(v);
    case 'json': return true;
    case 'strings': return Array.isArray(v) && v.every((s) => typeof s === 'string');
    case 'stringMap': return isObject(v) && Object.values(v).every((s) => typeof s === 'string');
    case 'position':
      return isObject(v) && Number.isSafeInteger(v.offset) && (v.offset as number) >= 0 && typeof v.epoch === 'string'
        && Object.keys(v).every((k) => k === 'offset' || k === 'epoch');
    case 'disconnect':
      return isObject(v) && Number.isSafeInteger(v.code) && (v.code as number) >= 3000 && (v.code as number) <= 4999
        && (v.reason === undefined || typeof v.reason === 'string') && Object.keys(v).every((k) => k === 'code' || k === 'reason');
    case 'commands':
      return Array.isArray(v) && v.every((c) => isObject(c) && typeof c.method === 'string' && (c.params === undefined || isObject(c.params)));
  }
}

/**
 * Returns `params` without its null fields (JSON null means "not given", as in Centrifugo's
 * protobuf JSON) when it fits `spec`; throws BadParamsError naming the first wrong, missing or
 * unknown field and what it must be. `method` is used in messages.
 */
export function checkParams(method: string, params: unknown, spec: ParamsSpec): Record<string, unknown> {
  if (!isObject(params)) throw new BadParamsError(`bad request: ${method} takes a JSON object of parameters`);
  for (const key of Object.keys(params)) {
    if (!Object.hasOwn(spec, key)) {
      const known = Object.keys(spec);
      throw new BadParamsError(`bad request: ${method} has no parameter "${key}" (parameters: ${known.join(', ') || 'none'})`);
    }
  }
  for (const [key, field] of Object.entries(spec)) {
    const v = params[key];
    if (v === undefined || v === null) {
      if (field.required) throw new BadParamsError(`bad request: ${method} needs "${key}" (${DESCRIBE[field.type]})`);
      continue;
    }
    if (!fits(field.type, v)) throw new BadParamsError(`bad request: ${method}.${key} must be ${DESCRIBE[field.type]}`);
  }
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== null));
}
