/** The part of madge's API the architecture tests use (madge ships no type declarations). */
declare module 'madge' {
  interface MadgeResult {
    /** Every module and what it imports, by path relative to `baseDir`. */
    obj(): Record<string, string[]>;
    /** Every cycle, as the list of modules it goes through. */
    circular(): string[][];
  }
  function madge(paths: string | string[], config?: Record<string, unknown>): Promise<MadgeResult>;
  export default madge;
}
