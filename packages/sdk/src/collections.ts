// `galley.collections`: define, change and remove collections (contract.md §4; superusers only).
// Changing a collection migrates its table in place on the server.

import type { CollectionDef, FieldDef, RuleTestRequest, RuleTestResult } from '@galley/protocol';
import { apiPath, type Transport } from './transport.ts';

/** What a create or update sends: the name and whichever parts of the definition change. */
export type CollectionInput = Pick<CollectionDef, 'name'> & Partial<Pick<CollectionDef, 'fields' | 'indexes' | 'search' | 'rules'>>;

export class CollectionsApi {
  constructor(private readonly transport: Transport) {}

  async list(options: { signal?: AbortSignal } = {}): Promise<CollectionDef[]> {
    return (await this.transport.json<{ items: CollectionDef[] }>('GET', apiPath('collections'), options)).items;
  }

  get(name: string, options: { signal?: AbortSignal } = {}): Promise<CollectionDef> {
    return this.transport.json('GET', apiPath('collections', name), options);
  }

  create(definition: CollectionInput, options: { signal?: AbortSignal } = {}): Promise<CollectionDef> {
    return this.transport.json('POST', apiPath('collections'), { body: definition, signal: options.signal });
  }

  /** Fields are matched by `id`, so a field PATCHed with its id and a new name is renamed, keeping its values. */
  update(name: string, patch: Partial<CollectionInput>, options: { signal?: AbortSignal } = {}): Promise<CollectionDef> {
    return this.transport.json('PATCH', apiPath('collections', name), { body: patch, signal: options.signal });
  }

  async delete(name: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.transport.send('DELETE', apiPath('collections', name), options);
  }

  /** Each rule's verdict for a caller and a record, with the evaluation trace (nothing is written). */
  testRules(name: string, input: RuleTestRequest, options: { signal?: AbortSignal } = {}): Promise<RuleTestResult> {
    return this.transport.json('POST', apiPath('collections', name, 'rules', 'test'), { body: input, signal: options.signal });
  }

  /**
   * Resolves when `expression` is a valid rule of the collection (or of a draft with `fields`);
   * otherwise a GalleyError `invalid_filter` whose `problem.position` points at the error.
   */
  async checkRule(name: string, expression: string, fields?: FieldDef[], options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.transport.send('POST', apiPath('collections', name, 'rules', 'check'), { body: { expression, fields }, signal: options.signal });
  }
}
