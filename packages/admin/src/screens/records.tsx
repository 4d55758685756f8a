// The records of one collection: columns to choose, sort by header, a filter expression (the
// server's error shown with its position), full-text search, facets, cursor paging. The whole
// state lives in the URL. Changes by others arrive through the SDK's subscribe and are applied to
// the cached page by id and the page is fetched again behind the shown rows (no flicker, no duplicates). Bulk delete goes through the batch
// endpoint in one transaction.

import { useEffect, useId, useState, type FormEvent } from 'react';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { GalleyError, type BaseRecord, type CollectionDef, type ListResponse } from '@galley/sdk';
import { galley } from '../client.ts';
import { describeError } from '../problems.ts';
import { Link, navigate, useLocation, withQuery } from '../router.tsx';
import { ApiPreview } from '../components/api-preview.tsx';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { SearchIndexNote, useCollection } from './collections.tsx';

const PAGE_SIZE = 20;
/** The first page has no cursor; in the `back` list it is written as this. */
const FIRST = '_';
const FACETABLE = new Set(['select', 'boolean']);

export interface ListState {
  filter: string;
  search: string;
  sort: string;
  columns: string[] | null;
  cursor: string;
  /** Cursors of the pages before this one, so "Previous" works from a shared URL too. */
  back: string[];
}

function readState(query: URLSearchParams): ListState {
  return {
    filter: query.get('filter') ?? '',
    search: query.get('search') ?? '',
    sort: query.get('sort') ?? '-created',
    columns: query.get('columns')?.split(',').filter(Boolean) ?? null,
    cursor: query.get('cursor') ?? '',
    back: query.get('back')?.split(' ').filter(Boolean) ?? [],
  };
}

function stateUrl(name: string, s: ListState): string {
  return withQuery(`/collections/${encodeURIComponent(name)}`, {
    filter: s.filter,
    search: s.search,
    sort: s.sort === '-created' ? undefined : s.sort,
    columns: s.columns?.join(','),
    cursor: s.cursor,
    back: s.back.join(' '),
  });
}

export function RecordsScreen({ name }: { name: string }) {
  const { query } = useLocation();
  const state = readState(query);
  const collection = useCollection(name);
  const def = collection.data;
  if (collection.isError)
    return (
      <section aria-labelledby="records-title">
        <h1 id="records-title">{name}</h1>
        <p role="alert" className="form-error">{describeError(collection.error)}</p>
      </section>
    );
  return <RecordsTable name={name} def={def} state={state} />;
}

/** A facet value narrows the filter in place: it is added to what is there, not put instead of it. */
function narrowed(filter: string, term: string): string {
  return filter.trim() === '' ? term : `(${filter}) && ${term}`;
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (Array.isArray(value)) return value.length ? value.map(formatValue).join(', ') : '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function RecordsTable({ name, def, state }: { name: string; def: CollectionDef | undefined; state: ListState }) {
  const queries = useQueryClient();
  const allColumns = ['id', ...(def?.fields.map((f) => f.name) ?? []), 'created', 'updated'];
  const columns = state.columns ?? allColumns.filter((c) => c !== 'updated').slice(0, 7);
  const facetFields = def?.fields.filter((f) => FACETABLE.has(f.type)).map((f) => f.name) ?? [];
  const options = { filter: state.filter || undefined, search: state.search || undefined, sort: state.search ? undefined : state.sort, cursor: state.cursor || undefined, limit: PAGE_SIZE, facets: facetFields.length ? facetFields : undefined };
  const listKey = ['records', name, options] as const;
  const list = useQuery({
    queryKey: listKey,
    queryFn: ({ signal }) => galley.collection(name).list({ ...options, signal }),
    enabled: Boolean(def),
    placeholderData: keepPreviousData,
  });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const [bulkError, setBulkError] = useState<string | null>(null);
  const [showColumns, setShowColumns] = useState(false);
  const filterErrorId = useId();

  // Live: changes by anyone reach the page through the SDK's subscription.
  useEffect(() => {
    let stop: (() => void) | undefined;
    let cancelled = false;
    const refetch = () => void queries.invalidateQueries({ queryKey: ['records', name] });
    galley
      .collection(name)
      .subscribe({ filter: state.filter || undefined, onResync: refetch }, (event) => {
        // An update or delete of a shown row is applied at once; then the page is fetched again
        // (the old rows stay until the answer comes, keyed by id), so a new record takes its
        // place in the order exactly once.
        queries.setQueryData<ListResponse<BaseRecord>>(listKey, (page) => {
          if (!page || event.action === 'create') return page;
          const id = event.record.id;
          if (event.action === 'delete') return { ...page, items: page.items.filter((r) => r.id !== id) };
          return { ...page, items: page.items.map((r) => (r.id === id ? (event.record as BaseRecord) : r)) };
        });
        refetch();
      })
      .then(
        (unsubscribe) => (cancelled ? unsubscribe() : (stop = unsubscribe)),
        () => {},
      );
    return () => {
      cancelled = true;
      stop?.();
    };
    // listKey is derived from these values.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [name, state.filter, state.cursor, state.search, state.sort]);

  const go = (patch: Partial<ListState>) => {
    setSelected(new Set());
    navigate(stateUrl(name, { ...state, cursor: '', back: [], ...patch }));
  };

  function applyQuery(event: FormEvent) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    go({ filter: String(form.get('filter') ?? '').trim(), search: String(form.get('search') ?? '').trim() });
  }

  function sortBy(column: string) {
    const current = state.sort.replace(/^-/, '');
    go({ sort: current === column && !state.sort.startsWith('-') ? `-${column}` : column });
  }

  async function bulkDelete() {
    setBulkError(null);
    try {
      await galley.batch([...selected].map((id) => ({ action: 'delete' as const, collection: name, id })));
      setSelected(new Set());
      setConfirming(false);
      await queries.invalidateQueries({ queryKey: ['records', name] });
    } catch (err) {
      setBulkError(describeError(err));
    }
  }

  const filterError = list.error instanceof GalleyError && list.error.code === 'invalid_filter' ? list.error : null;
  const items = list.data?.items ?? [];
  const pageIds = items.map((r) => r.id);
  const allSelected = pageIds.length > 0 && pageIds.every((id) => selected.has(id));
  const sortOf = (c: string) => (state.sort === c ? 'ascending' : state.sort === `-${c}` ? 'descending' : undefined);

  return (
    <section aria-labelledby="records-title" className="records">
      <div className="screen-head">
        <h1 id="records-title">{name}</h1>
        <div className="row">
          <button type="button" aria-expanded={showColumns} onClick={() => setShowColumns((v) => !v)}>Columns</button>
          <Link to={`/collections/${encodeURIComponent(name)}/records/new`} className="button primary">New record</Link>
        </div>
      </div>

      {showColumns && (
        <fieldset className="columns">
          <legend>Columns shown</legend>
          <div className="row">
            {allColumns.map((c) => (
              <label key={c} className="inline">
                <input
                  type="checkbox"
                  checked={columns.includes(c)}
                  onChange={(e) => go({ columns: e.target.checked ? allColumns.filter((x) => x === c || columns.includes(x)) : columns.filter((x) => x !== c), cursor: state.cursor, back: state.back })}
                />
                {c}
              </label>
            ))}
          </div>
        </fieldset>
      )}

       {/* Keyed by the URL's values: a back button or a shared link resets the boxes to them. */}
      <form key={`${state.filter}\n${state.search}`} className="toolbar" role="search" aria-label={`Filter ${name}`} onSubmit={applyQuery}>
        <label className="grow">
          Filter
          <input name="filter" defaultValue={state.filter} placeholder="status = 'published' && price > 10" aria-invalid={filterError ? true : undefined} aria-describedby={filterError ? filterErrorId : undefined} spellCheck={false} />
        </label>
        {def && def.search.length > 0 && (
          <label className="grow">
            Search
            <input name="search" type="search" defaultValue={state.search} />
          </label>
        )}
        <button type="submit">Apply</button>
      </form>
      {def && <SearchIndexNote collection={def} />}
      {filterError && (
        <p id={filterErrorId} role="alert" className="form-error">
          {filterError.detail}
          {typeof filterError.problem.position === 'number' && (
            <>
              {' '}(at position {filterError.problem.position}: <code>{state.filter.slice(0, filterError.problem.position)}<mark>{state.filter.slice(filterError.problem.position) || ' '}</mark></code>)
            </>
          )}
        </p>
      )}
      {list.isError && !filterError && <p role="alert" className="form-error">{describeError(list.error)}</p>}

      <div className="records-body">
        <div className="records-main">
          {selected.size > 0 && (
            <div className="row bulk" role="region" aria-label="Selection">
              <span>{selected.size} selected</span>
              <button
                type="button"
                className="danger"
                onClick={() => {
                  setConfirming(true);
                  setBulkError(null);
                }}
              >
                Delete selected
              </button>
            </div>
          )}
          <div className="table-wrap">
            <table aria-label={`Records of ${name}`}>
              <thead>
                <tr>
                  <th scope="col" className="check">
                    <input type="checkbox" aria-label="Select every record on this page" checked={allSelected} onChange={(e) => setSelected(e.target.checked ? new Set(pageIds) : new Set())} />
                  </th>
                  {columns.map((c) => (
                    <th key={c} scope="col" aria-sort={sortOf(c)}>
                      <button type="button" className="sort" onClick={() => sortBy(c)} disabled={Boolean(state.search)}>
                        {c}
                        <span aria-hidden="true">{sortOf(c) === 'ascending' ? ' ▲' : sortOf(c) === 'descending' ? ' ▼' : ''}</span>
                      </button>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody aria-busy={list.isFetching}>
                {list.isPending && !list.isError
                  ? Array.from({ length: 5 }, (_, i) => (
                      <tr key={i} className="skeleton" aria-hidden="true">
                        <td>&nbsp;</td>
                        {columns.map((c) => <td key={c}>&nbsp;</td>)}
                      </tr>
                    ))
                  : items.map((record) => (
                      <tr key={record.id} data-id={record.id}>
                        <td className="check">
                          <input
                            type="checkbox"
                            aria-label={`Select record ${record.id}`}
                            checked={selected.has(record.id)}
                            onChange={(e) => {
                              const next = new Set(selected);
                              if (e.target.checked) next.add(record.id);
                              else next.delete(record.id);
                              setSelected(next);
                            }}
                          />
                        </td>
                        {columns.map((c) => (
                          <td key={c}>
                            {c === 'id' ? <Link to={`/collections/${encodeURIComponent(name)}/records/${encodeURIComponent(record.id)}`}>{record.id}</Link> : formatValue(record[c])}
                          </td>
                        ))}
                      </tr>
                    ))}
                {!list.isPending && items.length === 0 && (
                  <tr>
                    <td colSpan={columns.length + 1}>No records match.</td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Pages">
            <button type="button" disabled={state.back.length === 0} onClick={() => navigate(stateUrl(name, { ...state, cursor: state.back.at(-1) === FIRST ? '' : state.back.at(-1)!, back: state.back.slice(0, -1) }))}>
              Previous
            </button>
            <button type="button" disabled={!list.data?.nextCursor} onClick={() => navigate(stateUrl(name, { ...state, cursor: list.data!.nextCursor!, back: [...state.back, state.cursor || FIRST] }))}>
              Next
            </button>
          </nav>
        </div>
        {list.data?.facets && Object.keys(list.data.facets).length > 0 && (
          <aside className="facets" aria-label="Facets">
            <h2>Facets</h2>
            {Object.entries(list.data.facets).map(([field, counts]) => (
              <section key={field} aria-label={`Facet ${field}`}>
                <h3>{field}</h3>
                <ul>
                  {counts.map((c, i) =>
                    'value' in c ? (
                      <li key={i}>
                        <button type="button" className="link" onClick={() => go({ filter: narrowed(state.filter, `${field} ${def?.fields.find((f) => f.name === field)?.multiple ? '?=' : '='} ${galley.filter`${c.value}`}`) })}>
                          {String(c.value)}
                        </button>{' '}
                        <span className="hint">{c.count}</span>
                      </li>
                    ) : null,
                  )}
                </ul>
              </section>
            ))}
          </aside>
        )}
      </div>

      <ApiPreview collection={name} options={options} />

      <ConfirmDialog
        open={confirming}
        title={`Delete ${selected.size} record${selected.size === 1 ? '' : 's'}?`}
        confirmLabel="Delete"
        onConfirm={() => void bulkDelete()}
        onClose={() => setConfirming(false)}
        error={bulkError}
      >
        <p>They are deleted in one transaction, with their files. This cannot be undone.</p>
      </ConfirmDialog>
    </section>
  );
}
