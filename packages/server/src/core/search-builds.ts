// Builds a collection's full-text index in the background once a migration has changed what it
// covers (db/search-ddl.ts starts the build and holds the SQL): a job per chunk of rows, each chunk
// one short transaction that records how far it got, so a build survives restarts, runs once across
// instances, and never holds a lock on the table for more than one chunk.

import type { SearchIndexState } from '@galley/protocol';
import type { CollectionDef } from './collection-model.ts';
import { parseStoredDefinition, type CollectionLifecycle } from './collections.ts';
import type { JobQueue } from './jobs.ts';
import { SqlParams, type Database, type Queryable, type Transaction } from '../db/database.ts';
import {
  createGinIndex, endSearchBuild, indexChunk, readSearchBuild, readSearchBuilds, searchIndexChanges, type SearchBuild,
} from '../db/search-ddl.ts';

export const JOB_SEARCH_BUILD = 'search.build';

interface BuildJob {
  collection: string;
  /** The build this job belongs to: once the collection's build is another one (or none), the job stops. */
  build: string;
}

export class SearchIndexBuilder implements CollectionLifecycle {
  constructor(
    private readonly db: Database,
    private readonly jobs: JobQueue,
    private readonly chunkSize: number,
  ) {
    jobs.register(JOB_SEARCH_BUILD, (payload) => this.runJob(payload as BuildJob));
  }

  /**
   * A migration that changed the index started a build: its first chunk is indexed here, in the
   * migration's transaction, so a small collection is fully searchable when its update returns;
   * the rest goes to the job queue, which runs only if the migration commits.
   */
  async collectionUpdatedIn(tx: Transaction, before: CollectionDef, after: CollectionDef): Promise<void> {
    if (!searchIndexChanges(before, after, tx.dialect)) return;
    const build = await readSearchBuild(tx, after.name);
    if (!build) return;
    const indexed = await indexChunk(tx, after, build, this.chunkSize);
    if (indexed < this.chunkSize) {
      // A table this small is indexed at once, GIN included: no concurrent build is worth it.
      if (tx.dialect === 'postgres') await createGinIndex(tx, after, false);
      await endSearchBuild(tx, after.name);
      return;
    }
    await this.enqueueNext(tx, build, indexed);
  }

  /** Dropping the table removed the build with it (dropSearchIndex): a job still queued finds none and ends. */
  async collectionDeletedIn(): Promise<void> {}

  /** The state shown with the collection: undefined when it has no search fields. */
  async state(def: CollectionDef): Promise<SearchIndexState | undefined> {
    if (def.search.length === 0) return undefined;
    return stateOf(await readSearchBuild(this.db, def.name));
  }

  /** The states of several collections in one query. */
  async states(defs: CollectionDef[]): Promise<Map<string, SearchIndexState>> {
    const builds = await readSearchBuilds(this.db);
    return new Map(defs.filter((d) => d.search.length > 0).map((d) => [d.name, stateOf(builds.get(d.name))]));
  }

  private async enqueueNext(tx: Transaction, build: SearchBuild, indexedNow: number): Promise<void> {
    const job: BuildJob = { collection: build.collection, build: build.build };
    // One key per step: a step that runs twice (a lapsed lease) does not queue its successor twice.
    await this.jobs.enqueueIn(tx, JOB_SEARCH_BUILD, job, { uniqueKey: `${JOB_SEARCH_BUILD}:${build.build}:${build.indexed + indexedNow}` });
  }

  /** One chunk, then the next job; the last step ends the build (PostgreSQL: after its GIN index). */
  private async runJob(job: BuildJob): Promise<void> {
    const outcome = await this.db.transaction(async (tx) => {
      // Locked (PostgreSQL): a second worker on the same step waits, then sees it done.
      const build = await readSearchBuild(tx, job.collection, true);
      if (!build || build.build !== job.build) return 'stale';
      if (build.phase === 'index') return 'index';
      const def = await storedDefinition(tx, job.collection);
      if (!def) return 'stale';
      const indexed = await indexChunk(tx, def, build, this.chunkSize);
      if (indexed === this.chunkSize) {
        await this.enqueueNext(tx, build, indexed);
        return 'more';
      }
      if (tx.dialect === 'postgres') return 'index';
      await endSearchBuild(tx, job.collection);
      return 'done';
    });
    if (outcome === 'index') await this.finishPostgres(job);
  }

  /**
   * Every row holds its document: the GIN index is made without blocking writes (CONCURRENTLY,
   * outside a transaction), then the build ends — if it is still this one. A crash in between
   * leaves the build in its `index` phase; the job's retry makes the index again.
   */
  private async finishPostgres(job: BuildJob): Promise<void> {
    const current = async () => (await readSearchBuild(this.db, job.collection))?.build === job.build;
    const def = await storedDefinition(this.db, job.collection);
    if (!def) return;
    try {
      await createGinIndex(this.db, def, true);
    } catch (err) {
      // The collection changed or went away meanwhile: its next build (if any) makes the index.
      if (!(await current())) return;
      throw err;
    }
    await this.db.transaction(async (tx) => {
      const build = await readSearchBuild(tx, job.collection, true);
      if (build?.build === job.build) await endSearchBuild(tx, job.collection);
    });
  }
}

function stateOf(build: SearchBuild | undefined): SearchIndexState {
  // Records created during the build are counted as indexed too: the total never shows less.
  return build ? { state: 'building', indexed: build.indexed, total: Math.max(build.total, build.indexed) } : { state: 'ready' };
}

/**
 * The definition as committed (not this instance's cached copy, which may not have heard of the
 * latest change yet): the build must index the fields it was started for.
 */
async function storedDefinition(db: Queryable, name: string): Promise<CollectionDef | undefined> {
  const p = new SqlParams(db.dialect);
  const row = await db.get<{ definition: unknown }>(`SELECT "definition" FROM "_collections" WHERE "name" = ${p.add(name)}`, p.values);
  return row ? parseStoredDefinition(row.definition) : undefined;
}
