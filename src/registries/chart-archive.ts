import { parse as parseYaml } from 'yaml';
import { HELM_CHART_LAYER, type Descriptor, type Manifest } from './oci-client.js';
import { readTarGz } from './tar-gz.js';

/** Charts are a few kilobytes to a few megabytes; anything far past that is refused before it is fetched. */
export const MAX_CHART_ARCHIVE_BYTES = 10 * 1024 * 1024;
const MAX_UNPACKED_BYTES = 50 * 1024 * 1024;

/** Platz's chart extensions (platzio/chart-ext), each the document as the chart author wrote it, or null. */
export interface ChartExtensions {
  valuesUi: unknown;
  actionsSchema: unknown;
  features: unknown;
  resourceTypes: unknown;
}

/** Why a chart cannot be read: stored with the chart, which is then unavailable. */
export class ChartArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChartArchiveError';
  }
}

/**
 * Where chart-ext looks, relative to the chart's folder (chart-ext src/ext_type.rs): in `platz/` when the chart has
 * that folder, else the older top-level JSON files, which had no resource types.
 */
const FILES: Record<'platz' | 'legacy', Record<keyof ChartExtensions, string | null>> = {
  platz: { valuesUi: 'platz/values-ui.yaml', actionsSchema: 'platz/actions.yaml', features: 'platz/features.yaml', resourceTypes: 'platz/resources.yaml' },
  legacy: { valuesUi: 'values.ui.json', actionsSchema: 'actions.schema.json', features: 'features.json', resourceTypes: null },
};

/** The chart layer of a Helm chart's manifest. */
export function chartLayer(manifest: Manifest): Descriptor {
  const layer = manifest.layers.find((l) => l.mediaType === HELM_CHART_LAYER);
  if (!layer) throw new ChartArchiveError(`the manifest has no chart layer (${HELM_CHART_LAYER})`);
  if (layer.size > MAX_CHART_ARCHIVE_BYTES) {
    throw new ChartArchiveError(`the chart archive is ${layer.size} bytes, more than the ${MAX_CHART_ARCHIVE_BYTES} read`);
  }
  return layer;
}

/** The extensions of a chart archive (`<chart>/Chart.yaml` and its files), or a ChartArchiveError saying what is wrong. */
export async function readChartArchive(archive: Uint8Array): Promise<ChartExtensions> {
  let files: Map<string, Uint8Array>;
  try {
    files = await readTarGz(archive, MAX_UNPACKED_BYTES);
  } catch (err) {
    throw new ChartArchiveError(`the chart archive cannot be read: ${(err as Error).message}`);
  }
  const roots = [...files.keys()].filter((path) => /^[^/]+\/Chart\.yaml$/.test(path));
  if (roots.length !== 1) throw new ChartArchiveError(`expected one <chart>/Chart.yaml at the top of the archive, found ${roots.length}`);
  const root = roots[0].slice(0, -'Chart.yaml'.length);
  const read = (name: string) => {
    const bytes = files.get(root + name);
    return bytes && parseDocument(name, Buffer.from(bytes).toString('utf8'));
  };
  const chart = read('Chart.yaml') as { version?: unknown } | null;
  if (typeof chart?.version !== 'string') throw new ChartArchiveError('Chart.yaml: no version');

  const layout = [...files.keys()].some((path) => path.startsWith(`${root}platz/`)) ? FILES.platz : FILES.legacy;
  const documents = Object.entries(layout).map(([key, name]) => [key, name ? (read(name) ?? null) : null]);
  return Object.fromEntries(documents) as ChartExtensions;
}

function parseDocument(name: string, source: string): unknown {
  try {
    return name.endsWith('.json') ? JSON.parse(source) : parseYaml(source);
  } catch (err) {
    throw new ChartArchiveError(`${name}: ${(err as Error).message}`);
  }
}
