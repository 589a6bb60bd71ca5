// autocannon 9 ships no types (and there is no @types package for it); this declares only what
// graphql-bench.ts uses. Field names follow autocannon's lib/aggregateResult.js.
declare module 'autocannon' {
  namespace autocannon {
    interface Options {
      url: string;
      method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
      headers?: Record<string, string>;
      body?: string;
      connections?: number;
      pipelining?: number;
      /** seconds */
      duration?: number;
      /** seconds before a request counts as a timeout (and an error) */
      timeout?: number;
      /** a run before the measured one, with these options overriding the main ones; not counted in the result */
      warmup?: { connections?: number; duration?: number };
      /** false marks the response as a mismatch (counted in `mismatches`) */
      verifyBody?: (body: string) => boolean;
      title?: string;
    }

    /** hdr-histogram-percentiles-obj: mean/stddev/min/max and pNN keys (p2_5, p50, p97_5, p99, …) */
    interface Histogram {
      average: number;
      mean: number;
      stddev: number;
      min: number;
      max: number;
      total: number;
      p50: number;
      p90: number;
      p99: number;
      p99_9: number;
      [key: string]: number;
    }

    interface Result {
      title?: string;
      url: string;
      connections: number;
      pipelining: number;
      duration: number;
      /** socket errors plus timeouts */
      errors: number;
      timeouts: number;
      /** responses that failed verifyBody */
      mismatches: number;
      non2xx: number;
      resets: number;
      '2xx': number;
      statusCodeStats: Record<string, { count: number }>;
      /** milliseconds */
      latency: Histogram;
      /** per second */
      requests: Histogram & { sent: number };
      /** bytes per second */
      throughput: Histogram;
    }
  }

  function autocannon(options: autocannon.Options): Promise<autocannon.Result>;
  export = autocannon;
}
