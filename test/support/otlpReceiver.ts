/**
 * A real OTLP/HTTP receiver on loopback (node:http), standing in for an OpenTelemetry collector:
 * it accepts POST /v1/traces, /v1/logs and /v1/metrics, decodes OTLP/JSON bodies into flat
 * spans, log records and metrics, and keeps protobuf bodies raw. It can answer slowly.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';

/** An OTLP attribute list as plain values. */
export type Attrs = Record<string, unknown>;

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  /** 1 internal, 2 server, 3 client. */
  readonly kind: number;
  readonly attributes: Attrs;
  readonly status: { code?: number; message?: string };
  readonly resource: Attrs;
}

export interface ReceivedLog {
  readonly eventName?: string;
  readonly body: unknown;
  readonly traceId?: string;
  readonly spanId?: string;
  readonly attributes: Attrs;
  readonly resource: Attrs;
}

export interface ReceivedMetric {
  readonly name: string;
  readonly unit?: string;
  /** The raw OTLP/JSON metric (sum, gauge or histogram with its data points). */
  readonly data: Record<string, unknown>;
}

export interface RawRequest {
  readonly path: string;
  readonly contentType: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** A loopback OTLP/HTTP receiver. */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly logs: ReceivedLog[] = [];
  readonly metrics: ReceivedMetric[] = [];
  readonly requests: RawRequest[] = [];
  private server: Server | undefined;

  /** `delayMs`: how long to wait before answering each request (a slow collector). */
  constructor(private readonly delayMs = 0) {}

  /** Listens on a free loopback port; resolves with the base endpoint (`http://127.0.0.1:PORT`). */
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void readBody(req).then((body) => {
        const path = req.url ?? '';
        const contentType = String(req.headers['content-type'] ?? '');
        this.requests.push({ path, contentType, headers: req.headers, body });
        if (contentType.includes('json')) this.decode(path, JSON.parse(body.toString('utf8')) as Record<string, unknown>);
        const answer = () => {
          res.writeHead(200, { 'content-type': contentType.includes('json') ? 'application/json' : 'application/x-protobuf' });
          res.end(contentType.includes('json') ? '{}' : '');
        };
        if (this.delayMs > 0) setTimeout(answer, this.delayMs);
        else answer();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private decode(path: string, body: Record<string, unknown>): void {
    if (path === '/v1/traces') {
      for (const rs of list(body.resourceSpans)) {
        const resource = attrs(list((rs.resource as Record<string, unknown> | undefined)?.attributes));
        for (const ss of list(rs.scopeSpans)) {
          for (const s of list(ss.spans)) {
            this.spans.push({
              traceId: String(s.traceId),
              spanId: String(s.spanId),
              parentSpanId: String(s.parentSpanId ?? ''),
              name: String(s.name),
              kind: Number(s.kind),
              attributes: attrs(list(s.attributes)),
              status: (s.status ?? {}) as ReceivedSpan['status'],
              resource,
            });
          }
        }
      }
    } else if (path === '/v1/logs') {
      for (const rl of list(body.resourceLogs)) {
        const resource = attrs(list((rl.resource as Record<string, unknown> | undefined)?.attributes));
        for (const sl of list(rl.scopeLogs)) {
          for (const r of list(sl.logRecords)) {
            this.logs.push({
              ...(r.eventName ? { eventName: String(r.eventName) } : {}),
              body: value(r.body as Record<string, unknown> | undefined),
              ...(r.traceId ? { traceId: String(r.traceId), spanId: String(r.spanId) } : {}),
              attributes: attrs(list(r.attributes)),
              resource,
            });
          }
        }
      }
    } else if (path === '/v1/metrics') {
      for (const rm of list(body.resourceMetrics)) {
        for (const sm of list(rm.scopeMetrics)) {
          for (const m of list(sm.metrics)) this.metrics.push({ name: String(m.name), ...(m.unit ? { unit: String(m.unit) } : {}), data: m });
        }
      }
    }
  }
}

/** The data points of the last export of metric `name`, attributes decoded. */
export function dataPoints(receiver: OtlpReceiver, name: string): Array<Record<string, unknown> & { attributes: Attrs }> {
  const metric = receiver.metrics.filter((m) => m.name === name).at(-1);
  if (!metric) return [];
  const body = (metric.data.sum ?? metric.data.gauge ?? metric.data.histogram) as { dataPoints?: Array<Record<string, unknown>> } | undefined;
  return (body?.dataPoints ?? []).map((point) => ({ ...point, attributes: attrs(list(point.attributes)) }));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

function list(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? (value as Array<Record<string, unknown>>) : [];
}

function attrs(items: Array<Record<string, unknown>>): Attrs {
  const out: Attrs = {};
  for (const item of items) out[String(item.key)] = value(item.value as Record<string, unknown> | undefined);
  return out;
}

/** An OTLP AnyValue as a plain value. */
function value(any: Record<string, unknown> | undefined): unknown {
  if (!any) return undefined;
  if ('stringValue' in any) return any.stringValue;
  if ('boolValue' in any) return any.boolValue;
  if ('intValue' in any) return Number(any.intValue);
  if ('doubleValue' in any) return any.doubleValue;
  if ('arrayValue' in any) return list((any.arrayValue as Record<string, unknown>).values).map(value);
  if ('kvlistValue' in any) return attrs(list((any.kvlistValue as Record<string, unknown>).values));
  if ('bytesValue' in any) return any.bytesValue;
  return undefined;
}
