/**
 * The little XML the PrestaShop webservice needs from us. PrestaShop reads request bodies as XML only
 * (JSON is an output format, `output_format=JSON`; the webservice parses PUT, POST and PATCH bodies
 * with SimpleXMLElement), so writes are sent as
 * `<prestashop><stock_available><id>…</id>…</stock_available></prestashop>`. Values go in CDATA, as
 * the webservice's own blank schemas (`?schema=blank`) write them.
 *
 * `readXmlResource` is the reverse, for the emulator: one resource of flat fields, as PrestaShop's
 * parser takes it; anything else is refused.
 */

/** Text safe inside CDATA: a `]]>` in a value is split across two sections. */
function cdata(value: string): string {
  return `<![CDATA[${value.split(']]>').join(']]]]><![CDATA[>')}]]>`;
}

/** `<prestashop><{node}><field>value</field>…</{node}></prestashop>`, fields in the order given. */
export function xmlResource(node: string, fields: Record<string, string | number>): string {
  if (!/^[a-z_]+$/.test(node)) throw new Error(`"${node}" is not a PrestaShop resource node.`);
  const inner = Object.entries(fields)
    .map(([k, v]) => {
      if (!/^[a-z_]+$/.test(k)) throw new Error(`"${k}" is not a PrestaShop field name.`);
      return `<${k}>${cdata(String(v))}</${k}>`;
    })
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink"><${node}>${inner}</${node}></prestashop>`;
}

/** Undoes the five predefined entities of XML text content. */
function unescape(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos);/g, (_m, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e] ?? '');
}

/**
 * The resource node and its flat fields from a webservice request body, or null when the body is
 * not one `<prestashop>` element holding one resource of simple fields (what PrestaShop answers
 * with its "XML error" code 127).
 */
export function readXmlResource(xml: string): { node: string; fields: Record<string, string> } | null {
  const body = xml.replace(/^\s*<\?xml[^>]*\?>/, '').trim();
  const outer = /^<prestashop(?:\s[^>]*)?>([\s\S]*)<\/prestashop>$/.exec(body);
  if (!outer) return null;
  const res = /^\s*<([a-z_]+)>([\s\S]*)<\/\1>\s*$/.exec(outer[1]!);
  if (!res) return null;
  const fields: Record<string, string> = {};
  const field = /\s*<([a-z_]+)(?:\s[^>]*)?(?:\/>|>(?:<!\[CDATA\[([\s\S]*?)\]\]>|([^<]*))<\/\1>)/y;
  let rest = res[2]!;
  while (rest.trim() !== '') {
    field.lastIndex = 0;
    const m = field.exec(rest);
    if (!m) return null;
    // A value holding `]]>` is written as two CDATA sections: joined again here.
    fields[m[1]!] = m[2] !== undefined ? m[2].split(']]><![CDATA[').join('') : unescape(m[3] ?? '');
    rest = rest.slice(m[0].length);
  }
  return { node: res[1]!, fields };
}
