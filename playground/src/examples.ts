/** The examples (examples/*.kvmmu), which the build writes into examples.json beside the page. */
export interface Example {
  name: string;
  text: string;
}

/** Accepts only a list of `{ name, text }` with string fields (the file is fetched, so it is checked). */
export function parseExamples(raw: unknown): Example[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((e: unknown) => {
    if (typeof e !== 'object' || e === null) return [];
    const { name, text } = e as Record<string, unknown>;
    return typeof name === 'string' && typeof text === 'string' ? [{ name, text }] : [];
  });
}
