// Counters and histograms for the hot paths (every HTTP request, every inference request, every GraphQL root field).
// prom-client's own Counter and Histogram validate and hash the label set on every observation (about 0.4 and 0.8 µs
// each on an idle core, several times that on a loaded one); these keep one plain cell per label set, made once, so
// an observation is a few additions (tens of ns: bench/metrics.ts). prom-client still owns the registry and the
// exposition text: each family is registered with `registry.registerMetric` and hands it its values on `get()`, in
// the shape prom-client's own metrics do (`_bucket{le=...}` cumulative, `_sum`, `_count`).
import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

export class CounterCell {
  value = 0;
  constructor(readonly labels: Labels) {}
  inc(by = 1): void {
    this.value += by;
  }
}

export class HistogramCell {
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly labels: Labels, private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!(value === value)) return; // NaN says nothing (prom-client would throw on the request's path)
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    this.counts[i] += 1;
    this.sum += value;
    this.count += 1;
  }
}

/** One metric family: cells by label values, registered in `registry`. */
abstract class Family<Cell extends { labels: Labels }> {
  private readonly cells = new Map<string, Cell>();
  readonly aggregator = 'sum';
  abstract readonly type: 'counter' | 'histogram';

  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[], registry: Registry) {
    registry.registerMetric(this as never);
  }

  protected abstract make(labels: Labels): Cell;

  /** The cell of these label values (in labelNames' order), made on first use: keep it, and the hot path is free of
   * lookups. Label values must be bounded names (see metrics.ts). */
  labels(...values: string[]): Cell {
    const key = values.join('\u0000');
    let cell = this.cells.get(key);
    if (!cell) {
      if (values.length !== this.labelNames.length) throw new Error(`${this.name} takes ${this.labelNames.length} label values`);
      cell = this.make(Object.fromEntries(this.labelNames.map((n, i) => [n, values[i]])));
      this.cells.set(key, cell);
    }
    return cell;
  }

  protected all(): Cell[] {
    return [...this.cells.values()];
  }

  reset(): void {
    this.cells.clear();
  }
}

export class FastCounter extends Family<CounterCell> {
  readonly type = 'counter';
  protected make(labels: Labels) { return new CounterCell(labels); }

  async get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.all().map((c) => ({ labels: c.labels, value: c.value })) };
  }
}

export class FastHistogram extends Family<HistogramCell> {
  readonly type = 'histogram';
  constructor(name: string, help: string, labelNames: readonly string[], private readonly bounds: readonly number[], registry: Registry) {
    super(name, help, labelNames, registry);
    if (bounds.some((b, i) => i > 0 && b <= bounds[i - 1])) throw new Error(`${name}: buckets must increase`);
  }

  protected make(labels: Labels) { return new HistogramCell(labels, this.bounds); }

  async get() {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const c of this.all()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += c.counts[i];
        values.push({ metricName: `${this.name}_bucket`, labels: { ...c.labels, le }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...c.labels, le: '+Inf' }, value: c.count });
      values.push({ metricName: `${this.name}_sum`, labels: c.labels, value: c.sum });
      values.push({ metricName: `${this.name}_count`, labels: c.labels, value: c.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
