import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';

/**
 * Kubernetes Events (events.k8s.io/v1) on the objects the operator acts on, so `kubectl describe` tells the
 * story. Recording never fails a reconcile: a lost Event is logged, not retried.
 */
export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export interface EventRecorder {
  normal(object: InvolvedObject, reason: string, note: string): Promise<void>;
  warning(object: InvolvedObject, reason: string, note: string): Promise<void>;
}

export class KubeEventRecorder implements EventRecorder {
  private readonly events: k8s.EventsV1Api;
  private readonly controller: string;
  private readonly instance: string;
  private readonly onError: (error: unknown) => void;

  constructor(config: k8s.KubeConfig, options: { controller: string; instance: string; onError: (error: unknown) => void }) {
    this.events = config.makeApiClient(k8s.EventsV1Api);
    this.controller = options.controller;
    this.instance = options.instance;
    this.onError = options.onError;
  }

  normal(object: InvolvedObject, reason: string, note: string): Promise<void> {
    return this.record(object, 'Normal', reason, note);
  }

  warning(object: InvolvedObject, reason: string, note: string): Promise<void> {
    return this.record(object, 'Warning', reason, note);
  }

  private async record(object: InvolvedObject, type: 'Normal' | 'Warning', reason: string, note: string): Promise<void> {
    const namespace = object.metadata.namespace ?? 'default';
    const now = new k8s.V1MicroTime(Date.now());
    try {
      await this.events.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: `${object.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
          eventTime: now,
          type,
          reason,
          // The API caps notes at 1 KiB.
          note: note.length > 1024 ? `${note.slice(0, 1021)}...` : note,
          action: reason,
          reportingController: this.controller,
          reportingInstance: this.instance,
          regarding: {
            apiVersion: object.apiVersion,
            kind: object.kind,
            name: object.metadata.name,
            namespace: object.metadata.namespace,
            uid: object.metadata.uid,
            resourceVersion: object.metadata.resourceVersion,
          },
        },
      });
    } catch (error) {
      this.onError(error);
    }
  }
}

/** Collects events in memory, for tests and dry runs. */
export class MemoryEventRecorder implements EventRecorder {
  readonly recorded: Array<{ kind: string; name: string; type: 'Normal' | 'Warning'; reason: string; note: string }> = [];
  async normal(object: InvolvedObject, reason: string, note: string): Promise<void> {
    this.recorded.push({ kind: object.kind, name: object.metadata.name, type: 'Normal', reason, note });
  }
  async warning(object: InvolvedObject, reason: string, note: string): Promise<void> {
    this.recorded.push({ kind: object.kind, name: object.metadata.name, type: 'Warning', reason, note });
  }
}
