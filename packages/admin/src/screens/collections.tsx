// The collections list: every collection with its fields and rules at a glance, and the way into
// its records and its schema.

import { useQuery } from '@tanstack/react-query';
import type { CollectionDef } from '@galley/sdk';
import { galley } from '../client.ts';
import { describeError } from '../problems.ts';
import { Link } from '../router.tsx';

/** While a search index is being built, collections are read again every few seconds to show its progress. */
const BUILD_REFRESH_MS = 3000;
const building = (collection: CollectionDef | undefined) => collection?.searchIndex?.state === 'building';

export function useCollections() {
  return useQuery({
    queryKey: ['collections'],
    queryFn: ({ signal }) => galley.collections.list({ signal }),
    refetchInterval: (query) => (query.state.data?.some(building) ? BUILD_REFRESH_MS : false),
  });
}

export function useCollection(name: string) {
  return useQuery({
    queryKey: ['collection', name],
    queryFn: ({ signal }) => galley.collections.get(name, { signal }),
    refetchInterval: (query) => (building(query.state.data) ? BUILD_REFRESH_MS : false),
  });
}

/** A search index being built in the background finds only the records it has reached so far. */
export function SearchIndexNote({ collection }: { collection: CollectionDef }) {
  const index = collection.searchIndex;
  if (index?.state !== 'building') return null;
  return (
    <span className="hint block" role="status">
      Search index being built: {index.indexed.toLocaleString()} of {index.total.toLocaleString()} records; search finds only those so far.
    </span>
  );
}

export function CollectionsScreen() {
  const collections = useCollections();
  return (
    <section aria-labelledby="collections-title">
      <div className="screen-head">
        <h1 id="collections-title">Collections</h1>
        <Link to="/collections/new" className="button primary">New collection</Link>
      </div>
      {collections.isError && <p role="alert" className="form-error">{describeError(collections.error)}</p>}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Fields</th>
              <th scope="col">Search</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody aria-busy={collections.isPending}>
            {collections.isPending
              ? [0, 1, 2].map((i) => (
                  <tr key={i} className="skeleton" aria-hidden="true">
                    <td colSpan={4}>&nbsp;</td>
                  </tr>
                ))
              : collections.data?.map((c) => (
                  <tr key={c.name}>
                    <th scope="row">
                      <Link to={`/collections/${encodeURIComponent(c.name)}`}>{c.name}</Link>
                      {c.system && <span className="badge">built-in</span>}
                    </th>
                    <td>{c.fields.map((f) => f.name).join(', ') || '—'}</td>
                    <td>
                      {c.search.join(', ') || '—'}
                      <SearchIndexNote collection={c} />
                    </td>
                    <td>
                      <Link to={`/collections/${encodeURIComponent(c.name)}/schema`} aria-label={`Edit the schema of ${c.name}`}>Schema</Link>
                    </td>
                  </tr>
                ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
