/**
 * The command line shared by the files generated from schema.ts (write-schema, write-reference):
 * `<file>` writes it, `--check <file>` exits 1 when the file differs from what would be written,
 * so CI catches a generated file that drifted from the schema.
 */
import { readFile, writeFile } from 'node:fs/promises';

export interface GeneratedFile {
  /** The command's name, for the usage line. */
  readonly tool: string;
  /** The npm script that regenerates it, for the drift message. */
  readonly regenerate: string;
  readonly render: () => string;
}

/** Returns the process exit code; messages go to stderr. */
export async function writeOrCheck(gen: GeneratedFile, argv: readonly string[]): Promise<number> {
  const check = argv[0] === '--check';
  const file = check ? argv[1] : argv[0];
  if (file === undefined || argv.length !== (check ? 2 : 1)) {
    console.error(`usage: ${gen.tool} [--check] <file>`);
    return 2;
  }
  const wanted = gen.render();
  if (!check) {
    await writeFile(file, wanted);
    return 0;
  }
  if ((await readFile(file, 'utf8').catch(() => null)) === wanted) return 0;
  console.error(`${file} is out of date with src/config/schema.ts; run \`npm run build && npm run ${gen.regenerate}\` and commit it`);
  return 1;
}
