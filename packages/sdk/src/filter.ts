// galley.filter`title ~ ${q} && tags ?= ${picked}`: every interpolated value becomes exactly one
// literal of the expression language (contract.md §6), quoted and escaped, so no value can add an
// operator, a field or a parenthesis. What a value cannot be written as is a TypeError, at once.

export type FilterScalar = string | number | boolean | Date | null;
/** An array after `=`/`?=` means "any of", after `!=` "none of". */
export type FilterValue = FilterScalar | readonly FilterScalar[];

/** Characters that would fuse with a literal into one token (`price${5}` → `price5`). */
const FUSES = /[\w.'"@-]/;
/** The operand and operator written just before an array: `tags ?= `, `@request.auth.roles = `. */
const ARRAY_TARGET = /(@?[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*(\?=|!=|=)\s*$/;

/**
 * The template's own text is taken as written (like String.raw), so a quoted string you write in it
 * uses the expression language's escapes: filter`title = 'it\'s' && body ~ ${q}`.
 */
export function filter(template: TemplateStringsArray, ...values: readonly FilterValue[]): string {
  const strings = template.raw;
  let out = strings[0]!;
  let quote = openQuote(strings[0]!);
  for (let i = 0; i < values.length; i++) {
    if (quote) throw new TypeError('galley.filter: put ${…} outside quotes; the value is quoted for you');
    // `author.${x}` would make `true` or `null` part of a field path: values are never names.
    if (/\.\s*$/.test(strings[i]!)) throw new TypeError('galley.filter: a value cannot follow "."; field names are written in the template');
    const value = values[i];
    let piece: string;
    if (Array.isArray(value)) {
      const target = ARRAY_TARGET.exec(strings[i]!);
      if (!target) throw new TypeError('galley.filter: an array must follow "field =", "field ?=" or "field !="');
      out = out.slice(0, out.length - target[0].length);
      piece = anyOf(target[1]!, target[2]!, value);
    } else {
      piece = literal(value as FilterScalar);
    }
    const next = strings[i + 1]!;
    out += `${FUSES.test(out.slice(-1)) ? ' ' : ''}${piece}${FUSES.test(next.charAt(0)) ? ' ' : ''}${next}`;
    quote = openQuote(next);
  }
  return out;
}

/** `(tags ?= 'a' || tags ?= 'b')`; with `!=`, `(tags != 'a' && tags != 'b')`. No values: nothing matches (or everything, for `!=`). */
function anyOf(operand: string, op: string, values: readonly FilterScalar[]): string {
  if (values.length === 0) return op === '!=' ? 'true' : 'false';
  const joiner = op === '!=' ? ' && ' : ' || ';
  return `(${values.map((v) => `${operand} ${op} ${literal(v)}`).join(joiner)})`;
}

function literal(value: FilterScalar): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return String(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`galley.filter: ${value} is not a finite number`);
      return String(value);
    case 'string':
      // The server refuses these in any expression: say so here, before a round trip.
      if (value.includes('\u0000') || !value.isWellFormed()) throw new TypeError('galley.filter: a string may not hold NUL or unpaired surrogates');
      return `'${value.replace(/[\\']/g, '\\$&')}'`;
    default:
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw new TypeError('galley.filter: invalid Date');
        return `'${value.toISOString()}'`;
      }
      throw new TypeError(`galley.filter: cannot use a ${typeof value} as a value`);
  }
}

/** The quote left open at the end of a static part, if any. Parts before a value start outside quotes, or it threw. */
function openQuote(text: string): string | undefined {
  let open: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (open) {
      if (c === '\\') i++;
      else if (c === open) open = undefined;
    } else if (c === "'" || c === '"') {
      open = c;
    }
  }
  return open;
}
