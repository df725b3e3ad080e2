/** One entry point of the package. */
export interface EntryPoint {
  /** The subpath in package.json `exports` (`.`, `./cassandra`). */
  subpath: string;
  /** The output name without extension under dist/ (`index`, `cassandra/index`). */
  out: string;
  /** The TypeScript source (`src/index.ts`). */
  source: string;
  /** The bundled declaration file (`dist/index.d.ts`). */
  types: string;
  /** The API report's base name under etc/ (`sdk`, `sdk-cassandra`). */
  report: string;
}
export function entryPoints(): EntryPoint[];
