/** The ```ts blocks of a Markdown guide, with their `<!-- snippet-context -->` (see test/docs/snippets.test.ts). */
export interface Snippet {
  /** `docs/inventory.md:42` (the line of the opening fence). */
  where: string;
  file: string;
  code: string;
  /** Lines of context prepended before the code. */
  contextLines: number;
}

const CONTEXT_OPEN = '<!-- snippet-context';
const CONTEXT_RE = /^<!-- snippet-context[ \t]*\n([\s\S]*?)-->\s*$/;

/** The ```ts blocks of one Markdown file, each with the snippet-context comment right above it. */
export function extractSnippets(path: string, text: string): Snippet[] {
  const lines = text.split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(ts|typescript)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++)
      body.push(lines[i]!.slice(open[1]!.length));
    // the context comment must end right above the fence (blank lines allowed)
    const before = lines.slice(Math.max(0, start - 60), start).join('\n');
    const at = before.lastIndexOf(CONTEXT_OPEN);
    const context = at < 0 ? '' : (CONTEXT_RE.exec(before.slice(at))?.[1] ?? '');
    const contextText = context.trimEnd();
    out.push({
      where: `${path}:${start + 1}`,
      file: `${path.replace(/[^A-Za-z0-9]+/g, '_')}_${start + 1}.ts`,
      code: `${contextText}${contextText ? '\n' : ''}${body.join('\n')}\nexport {};\n`,
      contextLines: contextText ? contextText.split('\n').length : 0,
    });
  }
  return out;
}
