/**
 * Platz's deployment kind for a registry: the repo name without a `-chart`/`-charts` suffix, its
 * parts (split on `-` and `_`) title-cased and joined: `two-words-chart` → `TwoWords`.
 */
export function kindNameFromRepo(repoName: string): string {
  return repoName
    .replace(/-charts?$/, '')
    .split(/[-_]/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}
