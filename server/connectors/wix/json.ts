/** Reading Wix's JSON answers and events without trusting their shape. */
export type Obj = Record<string, unknown>;

/** An object, or null (arrays and scalars are not). */
export const obj = (v: unknown): Obj | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : null);
/** The objects of a list (anything else in it is skipped); [] when it is not a list. */
export const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj).filter((x): x is Obj => x !== null) : []);
/** A non-empty string, trimmed, or null. */
export const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
