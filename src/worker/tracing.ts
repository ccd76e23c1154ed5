import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';

export interface Tracing {
  plugin: OpenTelemetryPlugin;
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry tracing of workflows and activities, on when an OTLP endpoint is configured through the
 * standard OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT variables; the exporter reads its other OTEL_* settings itself.
 */
export function tracingFromEnv(env: Record<string, string | undefined> = process.env): Tracing | null {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return null;
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter());
  const plugin = new OpenTelemetryPlugin({
    resource: new Resource({ 'service.name': env.OTEL_SERVICE_NAME ?? 'listing-sync-worker' }),
    spanProcessor,
  });
  return { plugin, shutdown: () => spanProcessor.shutdown() };
}
